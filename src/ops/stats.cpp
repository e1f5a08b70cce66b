#include "ops/stats.h"

#include <algorithm>
#include <unordered_set>

#include "repo/envelope.h"
#include "repo/object_names.h"
#include "repo/tree_walk.h"

namespace arca::ops {

nlohmann::json StatsResult::to_json() const {
  return {{"snapshots", snapshots},
          {"files", files},
          {"logical_bytes", logical},
          {"unique_bytes", unique_raw},
          {"unique_stored_bytes", unique_stored},
          {"data_blobs", blobs},
          {"repository_bytes", repo_bytes},
          {"packs", packs},
          {"dedup_ratio", dedup},
          {"compression_ratio", compression},
          {"compressed_bytes", compressed},
          {"envelope_bytes", overhead},
          {"index_blobs", index_blobs},
          {"index_memory_bytes", index_memory},
          {"index_bytes_per_blob", index_bytes_per_blob}};
}

StatsResult stats(Repository& repo, const StatsRequest& req, JobContext& ctx) {
  StatsResult r;
  const Index& index = repo.index();
  std::vector<Snapshot> snaps;
  bool whole = req.snapshots.empty() && req.filter.empty();  // then the whole index counts, not just the walked trees
  if (req.snapshots.empty())
    snaps = filter_snapshots(repo.list_snapshots(), req.filter);
  else
    for (const auto& ref : req.snapshots) snaps.push_back(resolve_snapshot(repo, ref, req.filter));
  r.snapshots = snaps.size();
  for (const auto& s : snaps) {
    r.logical += s.stats.bytes;
    r.files += s.stats.files;
  }
  // Unique data: blobs referenced by the chosen snapshots (the whole index if all of them).
  auto count = [&](const BlobLocation& loc) {
    r.unique_raw += loc.raw_length;
    r.unique_stored += loc.length;
    r.blobs++;
  };
  if (whole) {
    index.for_each([&](const Id&, const BlobLocation& loc) {
      if (loc.type == BlobType::Data) count(loc);
    });
    // Packs whose index object is gone or damaged count too (read from their headers, with a warning).
    repo.unindexed_packs().for_each([&](const Id& id, const BlobLocation& loc) {
      if (loc.type == BlobType::Data && !index.has(id)) count(loc);
    });
  } else {
    std::unordered_set<Id, IdHash> seen;
    for (const auto& s : snaps) {
      ctx.cancel.check("stats");
      walk_tree(
          repo, s.tree,
          [&](const std::string&, const Node& n) {
            for (const auto& id : n.content)
              if (seen.insert(id).second)
                if (auto loc = repo.find_blob(id)) count(*loc);
            return true;
          },
          "", "snapshot " + s.id.short_hex());
    }
  }
  for (const std::string* dir :
       {&names::kDataPacksPrefix, &names::kMetaPacksPrefix, &names::kIndexPrefix, &names::kSnapshotsPrefix}) {
    bool pack = dir == &names::kDataPacksPrefix || dir == &names::kMetaPacksPrefix;
    repo.backend().list(*dir, [&](const ObjectInfo& o) {
      r.repo_bytes += o.size;
      r.packs += pack;
    });
  }
  // Every stored blob carries a fixed envelope (key version, nonce, tag, codec byte). On tiny
  // points that overhead outweighs compression, so it is shown apart: the compression ratio
  // compares the data with its compressed form only, and is never below 1 (data that does not
  // shrink is stored uncompressed).
  r.overhead = std::min<uint64_t>(r.unique_stored, r.blobs * kEnvelopeOverhead);
  r.compressed = r.unique_stored - r.overhead;
  r.dedup = r.unique_raw ? double(r.logical) / double(r.unique_raw) : 0;
  r.compression = r.compressed ? double(r.unique_raw) / double(r.compressed) : 0;
  r.index_blobs = index.blob_count();
  r.index_memory = index.memory_bytes();
  r.index_bytes_per_blob = r.index_blobs ? double(r.index_memory) / double(r.index_blobs) : 0;
  return r;
}

}  // namespace arca::ops
