#include "repo/repair_index.h"

#include <map>
#include <mutex>
#include <thread>

#include "crypto/random.h"
#include "repo/object_names.h"
#include "repo/repair_scan.h"
#include "util/error.h"
#include "util/parallel_for.h"

namespace arca {

static constexpr size_t kBlobsPerIndexFile = 65536;  // as prune writes them

RepairIndexResult repair_index(Repository& repo, const RepairIndexOptions& opts, ProgressCounters& progress) {
  Backend& backend = repo.backend();
  if (repo.append_only() && !opts.dry_run)
    throw Error(ErrorKind::Refused, "'repair index' removes the old index objects, which append-only key " +
                                        repo.key_id().substr(0, 8) +
                                        " cannot delete; run it with an operator's key "
                                        "(restores already read damaged index objects' packs from their headers)");
  if (backend.stat(names::kPruneLock))
    throw Error(ErrorKind::Conflict,
                "a prune is running (prune/running exists): it replaces index files and deletes "
                "packs; run 'arca repair index' when it has finished");
  unsigned threads =
      opts.threads ? opts.threads : std::max({4u, std::thread::hardware_concurrency(), backend.parallelism()});
  RepairIndexResult r;

  // Index files first, then packs: every pack an index file listed was stored before that file,
  // so it is in the pack listing (a backup stores its packs before its index file).
  std::vector<std::string> old_files;
  backend.list(names::kIndexPrefix, [&](const ObjectInfo& o) { old_files.push_back(o.name); });
  std::map<Id, IndexPack> old;  // intact old entries, for packs whose header cannot be read
  std::mutex mu;
  std::optional<std::pair<uint32_t, std::string>> unavailable;  // the first object sealed with a missing key version
  parallel_for(old_files.size(), threads, [&](size_t i) {
    try {
      auto packs = decode_index_file(repo.load_object(old_files[i]), old_files[i]);
      std::lock_guard lk(mu);
      for (auto& p : packs) old.try_emplace(p.pack, std::move(p));
    } catch (const KeyVersionUnavailable& e) {
      std::lock_guard lk(mu);
      r.damaged_index.push_back(e.what());
      if (!opts.lost_key_versions.count(e.version()) && !unavailable) unavailable.emplace(e.version(), e.what());
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::NotFound) return;  // removed meanwhile (another repair)
      if (e.kind() != ErrorKind::Corrupt) throw;
      std::lock_guard lk(mu);
      r.damaged_index.push_back(e.what());
    }
  });

  auto stored = list_stored_packs(backend);
  progress.files_total = stored.size();
  progress.totals_known = true;
  std::vector<IndexPack> fresh;
  auto scanned = scan_pack_headers(backend, repo.keys(), stored, threads, &progress);
  for (const auto& s : scanned)
    if (!s.error.empty() && s.key_version && !repo.keys().find(*s.key_version) &&
        !opts.lost_key_versions.count(*s.key_version) && !unavailable)
      unavailable.emplace(*s.key_version, s.name + ": " + s.error);
  if (unavailable && !opts.dry_run)
    throw KeyVersionUnavailable(
        unavailable->first, unavailable->second +
                                "; 'repair index' stopped before changing anything (if data key version " +
                                std::to_string(unavailable->first) + " is truly lost for good: --lost-key-version " +
                                std::to_string(unavailable->first) + ")");
  for (auto& s : scanned) {
    auto it = old.find(s.pack.pack);
    if (s.error.empty()) {
      if (it == old.end()) r.packs_added++;
      fresh.push_back(std::move(s.pack));
    } else if (it != old.end()) {
      // A damaged header (a truncated pack) does not make the blobs before the damage unreadable.
      r.kept_from_old.push_back(s.name + ": " + s.error);
      fresh.push_back(std::move(it->second));
    } else {
      r.unreadable_packs.push_back(s.name + ": " + s.error);
    }
  }
  for (const auto& [id, p] : old)
    if (!stored.count(pack_name(p.type, id))) r.missing_packs++;
  for (const auto& p : fresh) {
    r.packs++;
    r.blobs += p.blobs.size();
  }
  if (opts.dry_run) return r;

  // The new index is durable before anything old goes: an interruption leaves packs listed twice
  // (harmless), never unlisted.
  std::vector<IndexPack> batch;
  size_t blobs = 0;
  auto flush = [&] {
    if (batch.empty()) return;
    repo.save_object(names::index_file(random_id()), encode_index_file(batch));
    r.index_files_written++;
    batch.clear();
    blobs = 0;
  };
  for (auto& p : fresh) {
    blobs += p.blobs.size();
    batch.push_back(std::move(p));
    if (blobs >= kBlobsPerIndexFile) flush();
  }
  flush();
  for (const auto& name : old_files) {
    try {
      backend.remove(name);
      r.removed.push_back(name);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::NotFound) continue;
      r.remove_failed.push_back(without_name(e.what(), name).empty() ? name
                                                                     : name + ": " + without_name(e.what(), name));
    }
  }
  return r;
}

}  // namespace arca
