// `arca ls`: the entries of a recovery point, all or those at and below one path.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "repo/repository.h"
#include "repo/snapshot_filter.h"
#include "repo/tree.h"
#include "util/job_context.h"

namespace arca::ops {

struct LsRequest {
  std::string snapshot;  // id, unique prefix or "latest" (the newest `filter` matches)
  SnapshotFilter filter;
  std::string path;  // empty: everything; a tree path or the path on the backed-up machine
  // Called for each entry in tree order; set, the result's entries stay empty (a listing of
  // millions of files is printed as it is walked, not held).
  std::function<void(const std::string& path, const Node& node)> each;
};

struct LsEntry {
  std::string path;
  Node node;
};

struct LsResult {
  Snapshot snap;
  std::vector<LsEntry> entries;    // tree order; empty when the request had `each`
  nlohmann::json to_json() const;  // ls --json
};

// NotFound if the path is not in the point.
LsResult ls(Repository& repo, const LsRequest& req, JobContext& ctx);

}  // namespace arca::ops
