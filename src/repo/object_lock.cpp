#include "repo/object_lock.h"

#include <set>

#include "repo/decode_guard.h"
#include "repo/object_names.h"
#include "repo/tree_walk.h"
#include "util/error.h"
#include "util/parallel_for.h"

namespace arca {

StoreLockResult apply_store_lock(Repository& repo, const Snapshot& snap, const SnapshotLock& lock, bool required) {
  StoreLockResult r;
  Backend& b = repo.backend();
  if (!b.supports_object_lock()) {
    if (required)
      throw Error(ErrorKind::Usage, "the store at " + b.location() + " has no per-object locks (S3 Object Lock)");
    r.note = "this store has no per-object locks: Arca's forget and prune honour the lock, the store does not";
    return r;
  }
  StoreLock sl;
  sl.mode = lock.mode == LockMode::LegalHold    ? StoreLock::Mode::LegalHold
            : lock.mode == LockMode::Compliance ? StoreLock::Mode::Compliance
                                                : StoreLock::Mode::Governance;
  sl.until_unix = lock.until_unix;
  // The snapshot first: if the bucket has no Object Lock, this says so before anything else.
  try {
    b.lock_object(names::snapshot(snap.id), sl);
  } catch (const Error& e) {
    if (required || e.kind() != ErrorKind::Usage) throw;
    r.note = std::string(e.what()) + "; Arca's forget and prune still honour the lock";
    return r;
  }
  r.objects = 1;
  // Every pack holding a blob of the recovery point.
  std::set<std::string> packs;
  std::set<Id> pack_ids;
  auto add_blob = [&](const Id& id) {
    auto loc = repo.find_blob(id);  // packs in no index too: they hold the point's data all the same
    if (!loc)
      throw Error(ErrorKind::Corrupt,
                  "blob " + id.short_hex() + " of recovery point " + snap.id.short_hex() + " is not indexed");
    packs.insert(pack_name(loc->type, loc->pack));
    pack_ids.insert(loc->pack);
  };
  add_blob(snap.tree);
  walk_tree(repo, snap.tree, [&](const std::string&, const Node& n) {
    for (const auto& c : n.content) add_blob(c);
    if (n.subtree) add_blob(*n.subtree);
    return true;
  });
  std::vector<std::string> names(packs.begin(), packs.end());
  // Index files that name those packs.
  std::vector<std::string> index_files;
  b.list(names::kIndexPrefix, [&](const ObjectInfo& o) { index_files.push_back(o.name); });
  for (const auto& f : index_files) {
    std::vector<IndexPack> listed;
    try {
      listed = decode_guarded(f, [&] { return decode_index_file(repo.load_object(f), f); });
    } catch (const Error& e) {
      // Skipped as the repository skips it when loading the index (a key holder can plant one):
      // the packs it may name are locked all the same, and 'arca repair index' rebuilds it from them.
      if (e.kind() != ErrorKind::Corrupt) throw;
      repo.warning(std::string(e.what()) + ": this damaged index object is not locked for recovery point " +
                   snap.id.short_hex() + " (its packs are); run 'arca check' and 'arca repair index'");
      continue;
    }
    for (const auto& ip : listed)
      if (pack_ids.count(ip.pack)) {
        names.push_back(f);
        break;
      }
  }
  names.push_back(lock_object_name(lock));
  names.push_back(names::kConfig);
  b.list(names::kKeyringPrefix, [&](const ObjectInfo& o) { names.push_back(o.name); });
  parallel_for(names.size(), std::max(2u, b.parallelism()), [&](size_t i) { b.lock_object(names[i], sl); });
  r.objects += names.size();
  return r;
}

}  // namespace arca
