// `arca stats`: sizes of what recovery points hold, after deduplication, and as stored.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "repo/repository.h"
#include "repo/snapshot_filter.h"
#include "util/job_context.h"

namespace arca::ops {

struct StatsRequest {
  std::vector<std::string> snapshots;  // ids, prefixes or "latest" (empty: what `filter` matches)
  SnapshotFilter filter;
};

struct StatsResult {
  uint64_t snapshots = 0, files = 0, logical = 0;
  uint64_t unique_raw = 0, unique_stored = 0, blobs = 0;  // data blobs the chosen points need
  uint64_t repo_bytes = 0, packs = 0;
  uint64_t compressed = 0, overhead = 0;  // unique_stored = compressed data + envelopes
  double dedup = 0, compression = 0;      // 0: no data, no ratio
  uint64_t index_blobs = 0, index_memory = 0;
  double index_bytes_per_blob = 0;
  nlohmann::json to_json() const;  // stats --json
};

StatsResult stats(Repository& repo, const StatsRequest& req, JobContext& ctx);

}  // namespace arca::ops
