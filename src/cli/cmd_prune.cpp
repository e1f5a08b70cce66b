#include <iostream>

#include "cli/commands.h"
#include "ops/error_table.h"
#include "cli/progress_display.h"
#include "cli/prune_command.h"
#include "repo/locks.h"
#include "repo/prune.h"
#include "repo/retention.h"
#include "sources/postgres/wal_retention.h"

namespace arca {

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

// Packs prune kept as they are because needed blobs in them failed authentication: what was
// and was not done, what depends on them, what to run (exit 12).
void throw_if_damaged(const PruneStats& s, bool dry_run) {
  if (s.damaged.empty()) return;
  std::string msg = "needed data failed authentication; prune " + std::string(dry_run ? "would keep" : "kept") +
                    " these packs as they are (not repacked, not deleted) and " + (dry_run ? "would prune" : "pruned") +
                    " the rest:";
  for (const auto& d : s.damaged) {
    msg += "\n  " + d.pack + ": blob";
    msg += d.blobs.size() == 1 ? " " : "s ";
    for (size_t i = 0; i < d.blobs.size(); i++) msg += (i ? ", " : "") + d.blobs[i].short_hex();
    for (const auto& f : d.affected) msg += "\n    needed by " + f;
  }
  msg +=
      "\nrun 'arca check --read-data' to see every damaged file. A new backup does not replace damaged blobs while "
      "the index lists them (it deduplicates against them): see 'Damaged data' in docs/retention.md";
  throw Error(ErrorKind::Corrupt, msg);
}

}  // namespace

void add_prune_options(CLI::App& cmd, PruneArgs& a, const std::string& prefix) {
  cmd.add_option(prefix + "grace", a.grace,
                 "Delete only packs found unneeded at least this long ago by an earlier prune: longer than any backup "
                 "runs (24h, 2d, 1w, 30min, 90s; months are mo, a bare m is refused). 0 deletes at once and is refused "
                 "while a backup runs (backups wait for it)")
      ->capture_default_str();
  cmd.add_option(prefix + "max-unused", a.max_unused, "Repack packs with at least this share of unused bytes")
      ->capture_default_str();
}

nlohmann::json run_prune_command(const GlobalOptions& g, Repository& repo, const PruneArgs& a, bool json) {
  PruneOptions o;
  o.grace_s = parse_grace(a.grace);
  o.max_unused = parse_share(a.max_unused);
  o.dry_run = a.dry_run;
  if (!a.dry_run && repo.append_only())
    throw Error(ErrorKind::Refused, "this repository was opened with append-only key " + repo.key_id().substr(0, 8) +
                                        ", which cannot delete; run prune with an operator's key");
  for (auto& [id, locks] : active_locks(load_locks(repo), time(nullptr)))
    for (auto& l : locks) o.locks.push_back(std::move(l));
  std::optional<PruneLock> lock;
  // Without a grace period nothing protects a running backup's data: the lock is exclusive then.
  if (!a.dry_run) lock.emplace(repo, o.grace_s == 0);
  ProgressCounters progress;
  PruneStats s;
  {
    ProgressDisplay display(progress, "prune", "trees", show_progress(g));
    s = prune_repository(repo, o, progress);
  }
  WalPruneStats w = prune_wal_archive(repo, repo.list_snapshots_strict(), a.dry_run);
  nlohmann::json j = {{"dry_run", a.dry_run},
                      {"grace_s", o.grace_s},
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
                      {"wal_objects_deleted", w.objects},
                      {"wal_bytes_deleted", w.bytes},
                      {"notes", w.notes}};
  for (const auto& n : s.notes) j["notes"].push_back(n);
  j["damaged"] = nlohmann::json::array();
  for (const auto& d : s.damaged) {
    nlohmann::json blobs = nlohmann::json::array();
    for (const auto& b : d.blobs) blobs.push_back(b.hex());
    j["damaged"].push_back({{"pack", d.pack}, {"blobs", blobs}, {"affected", d.affected}});
  }
  if (json || g.quiet) {
    if (!json) throw_if_damaged(s, a.dry_run);
    return j;
  }
  bool dry = a.dry_run;
  std::cout << "recovery points: " << s.snapshots << ", trees " << s.trees << ", blobs " << s.referenced_blobs
            << " needed of " << s.blobs << ", packs " << s.packs << " (" << human_bytes(s.stored_bytes_before) << ")\n";
  if (s.repacked_packs)
    std::cout << (dry ? "would repack " : "repacked ") << counted(s.repacked_packs, "pack", "packs") << " ("
              << counted(s.copied_blobs, "needed blob", "needed blobs") << ", " << human_bytes(s.copied_bytes)
              << " copied)\n";
  if (s.marked_packs)
    std::cout << (dry ? "would mark " : "marked ") << counted(s.marked_packs, "unneeded pack", "unneeded packs") << " ("
              << human_bytes(s.marked_bytes) << ") for deletion after the grace period (" << a.grace << ")\n";
  if (s.waiting_packs)
    std::cout << counted(s.waiting_packs, "pack", "packs") << " (" << human_bytes(s.waiting_bytes)
              << ") marked earlier " << (s.waiting_packs == 1 ? "waits" : "wait") << " for the grace period\n";
  if (s.rescued_packs)
    std::cout << counted(s.rescued_packs, "marked pack is", "marked packs are") << " needed again and "
              << (dry ? "would be kept\n" : "were kept\n");
  std::cout << (dry ? "would delete " : "deleted ") << counted(s.deleted_packs, "pack", "packs") << " ("
            << human_bytes(s.deleted_bytes) << ")";
  if (w.objects)
    std::cout << " and " << counted(w.objects, "WAL archive object", "WAL archive objects") << " ("
              << human_bytes(w.bytes) << ")";
  std::cout << "\n";
  for (const auto& n : w.notes) std::cout << "note: " << n << "\n";
  for (const auto& n : s.notes) std::cout << "note: " << n << "\n";
  if (!a.dry_run)
    std::cout << "repository packs: " << human_bytes(s.stored_bytes_before) << " -> "
              << human_bytes(s.stored_bytes_after) << "\n";
  throw_if_damaged(s, a.dry_run);
  return j;
}

void register_prune(CLI::App& app, GlobalOptions& g) {
  auto* cmd =
      app.add_subcommand("prune",
                         "Free the space no recovery point needs: mark unneeded packs, repack mostly-unused ones, and "
                         "delete what an earlier prune marked once the grace period is over. Safe while backups run");
  add_global_options(*cmd, g);
  auto a = std::make_shared<PruneArgs>();
  auto unlock = std::make_shared<bool>(false);
  add_prune_options(*cmd, *a, "--");
  cmd->add_flag("-n,--dry-run", a->dry_run, "Show what would be marked, repacked and deleted, and the space freed");
  cmd->add_flag("--unlock", *unlock, "Remove the lock a crashed prune left (only when no prune is running)");
  set_command(*cmd, [&g, a, unlock] {
    auto repo = open_repository(g);
    if (*unlock) {
      PruneLock::force_remove(*repo);
      if (!g.quiet) std::cout << "prune lock removed\n";
      return kExitOk;
    }
    auto j = run_prune_command(g, *repo, *a, g.json);
    if (g.json) print_json(j);
    return j["damaged"].empty() ? kExitOk : kExitCorrupt;
  });
}

}  // namespace arca
