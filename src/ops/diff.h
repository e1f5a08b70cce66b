// `arca diff`: what changed between two recovery points, in path order.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "repo/repository.h"
#include "repo/snapshot_filter.h"
#include "util/job_context.h"

namespace arca::ops {

struct DiffRequest {
  std::string from, to;  // ids, unique prefixes or "latest" (the newest `filter` matches)
  SnapshotFilter filter;
};

struct DiffChange {
  char change = '+';  // '+' added, '-' removed, 'M' modified, 'U' metadata changed only
  std::string path;   // a directory's with a trailing '/'
};

struct DiffResult {
  Id from, to;
  std::vector<DiffChange> changes;  // path order
  uint64_t added = 0, removed = 0, modified = 0, metadata_changed = 0;
  nlohmann::json to_json() const;  // diff --json
};

DiffResult diff(Repository& repo, const DiffRequest& req, JobContext& ctx);

}  // namespace arca::ops
