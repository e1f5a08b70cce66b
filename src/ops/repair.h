// `arca repair index|snapshots`: the ways out of damaged index and snapshot objects.
#pragma once
#include <functional>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "repo/repair_index.h"
#include "repo/repair_snapshots.h"
#include "repo/repository.h"
#include "util/job_context.h"

namespace arca::ops {

struct RepairIndexRequest {
  bool dry_run = false;
  std::set<uint32_t> lost_key_versions;  // declared lost for good
};

struct RepairIndexReport {
  bool dry_run = false;
  RepairIndexResult result;
  bool complete() const { return result.complete(); }
  nlohmann::json to_json() const;  // repair index --json
};

RepairIndexReport repair_index(Repository& repo, const RepairIndexRequest& req, JobContext& ctx);

struct RepairSnapshotsResult;

struct RepairSnapshotsRequest {
  bool dry_run = false;
  bool confirmed = false;  // --yes: remove without asking
  std::set<uint32_t> lost_key_versions;
  // Asked (with what was found) before removing anything when not `confirmed`; true goes ahead.
  // Null, or false: nothing is removed and the result says so.
  std::function<bool(const RepairSnapshotsResult& found)> ask;
};

struct RepairSnapshotsResult {
  bool dry_run = false;
  std::vector<DamagedSnapshot> damaged;
  std::set<uint32_t> lost_key_versions;
  size_t removable = 0, kept = 0, removed = 0;
  bool needs_confirmation = false;  // set: nothing was removed
  bool removes() const { return !dry_run && removable; }
  size_t locked() const;
  nlohmann::json to_json() const;  // repair snapshots --json
};

RepairSnapshotsResult repair_snapshots(Repository& repo, const RepairSnapshotsRequest& req, JobContext& ctx);

}  // namespace arca::ops
