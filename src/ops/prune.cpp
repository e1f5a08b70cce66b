#include "ops/prune.h"

#include <ctime>
#include <optional>

#include "repo/locks.h"
#include "repo/retention.h"

namespace arca::ops {

namespace {

int64_t parse_grace(const std::string& s) {
  if (s == "0") return 0;
  int64_t now = time(nullptr);
  return span_seconds(parse_span(s), now);
}

double parse_share(const std::string& s) {
  try {
    size_t used = 0;
    double v = std::stod(s, &used);
    if (used == s.size() - 1 && s.back() == '%')
      v /= 100;
    else if (used != s.size())
      throw std::invalid_argument(s);
    if (v > 0 && v <= 1) return v;
  } catch (const std::exception&) {}
  throw Error(ErrorKind::Usage, "--max-unused takes a share like 25% or 0.25 (above 0, at most 100%)");
}

}  // namespace

// Packs prune kept as they are because needed blobs in them failed authentication: what was
// and was not done, what depends on them, what to run.
Error PruneResult::damage_error() const {
  std::string msg = "needed data failed authentication; prune " + std::string(dry_run ? "would keep" : "kept") +
                    " these packs as they are (not repacked, not deleted) and " + (dry_run ? "would prune" : "pruned") +
                    " the rest:";
  for (const auto& d : packs.damaged) {
    msg += "\n  " + d.pack + ": blob";
    msg += d.blobs.size() == 1 ? " " : "s ";
    for (size_t i = 0; i < d.blobs.size(); i++) msg += (i ? ", " : "") + d.blobs[i].short_hex();
    for (const auto& f : d.affected) msg += "\n    needed by " + f;
  }
  msg +=
      "\nrun 'arca check --read-data' to see every damaged file. A new backup does not replace damaged blobs while "
      "the index lists them (it deduplicates against them): see 'Damaged data' in docs/retention.md";
  return Error(ErrorKind::Corrupt, msg);
}

nlohmann::json PruneResult::to_json() const {
  const PruneStats& s = packs;
  nlohmann::json j = {{"dry_run", dry_run},
                      {"grace_s", grace_s},
                      {"snapshots", s.snapshots},
                      {"trees", s.trees},
                      {"packs", s.packs},
                      {"blobs", s.blobs},
                      {"referenced_blobs", s.referenced_blobs},
                      {"unindexed_packs", s.unindexed_packs},
                      {"index_files_read", s.index_files_read},
                      {"index_files_written", s.index_files_written},
                      {"marked_packs", s.marked_packs},
                      {"marked_bytes", s.marked_bytes},
                      {"repacked_packs", s.repacked_packs},
                      {"copied_blobs", s.copied_blobs},
                      {"copied_bytes", s.copied_bytes},
                      {"deleted_packs", s.deleted_packs},
                      {"deleted_bytes", s.deleted_bytes},
                      {"waiting_packs", s.waiting_packs},
                      {"waiting_bytes", s.waiting_bytes},
                      {"rescued_packs", s.rescued_packs},
                      {"stored_bytes_before", s.stored_bytes_before},
                      {"stored_bytes_after", s.stored_bytes_after},
                      {"wal_objects_deleted", wal.objects},
                      {"wal_bytes_deleted", wal.bytes},
                      {"notes", wal.notes}};
  for (const auto& n : s.notes) j["notes"].push_back(n);
  j["damaged"] = nlohmann::json::array();
  for (const auto& d : s.damaged) {
    nlohmann::json blobs = nlohmann::json::array();
    for (const auto& b : d.blobs) blobs.push_back(b.hex());
    j["damaged"].push_back({{"pack", d.pack}, {"blobs", blobs}, {"affected", d.affected}});
  }
  return j;
}

PruneResult prune(Repository& repo, const PruneRequest& req, JobContext& ctx) {
  PruneOptions o;
  o.grace_s = parse_grace(req.grace);
  o.max_unused = parse_share(req.max_unused);
  o.dry_run = req.dry_run;
  o.cancel = &ctx.cancel;
  if (!req.dry_run && repo.append_only())
    throw Error(ErrorKind::Refused, "this repository was opened with append-only key " + repo.key_id().substr(0, 8) +
                                        ", which cannot delete; run prune with an operator's key");
  for (auto& [id, locks] : active_locks(load_locks(repo), time(nullptr)))
    for (auto& l : locks) o.locks.push_back(std::move(l));
  std::optional<PruneLock> lock;
  // Without a grace period nothing protects a running backup's data: the lock is exclusive then.
  if (!req.dry_run) lock.emplace(repo, o.grace_s == 0);
  PruneResult r;
  r.dry_run = req.dry_run;
  r.grace_s = o.grace_s;
  r.packs = prune_repository(repo, o, ctx.progress);
  ctx.cancel.check("prune");
  r.sweeps = sweep_object_families(repo, repo.list_snapshots_strict(), req.dry_run);
  for (const auto& [id, swept] : r.sweeps)
    if (id == "wal") r.wal = swept;
  return r;
}

void remove_prune_lock(Repository& repo) { PruneLock::force_remove(repo); }

}  // namespace arca::ops
