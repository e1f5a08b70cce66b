// `arca prune` (also run by `forget --prune`): the prune lock, the active recovery point locks,
// garbage collection of packs (repo/prune.h), then the sweep of every out-of-pack object family
// (repo/object_families.h: the WAL archive's retention).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "repo/object_families.h"
#include "repo/prune.h"
#include "repo/repository.h"
#include "util/job_context.h"

namespace arca::ops {

struct PruneRequest {
  std::string grace = "24h";       // a span (24h, 2d, 30min) or "0": delete at once
  std::string max_unused = "25%";  // repack packs with at least this share unused (25% or 0.25)
  bool dry_run = false;
};

struct PruneResult {
  bool dry_run = false;
  int64_t grace_s = 0;
  PruneStats packs;
  // Per family with a sweep (object_families.h), what it removed, in registry order.
  std::vector<std::pair<std::string, FamilySweepResult>> sweeps;
  FamilySweepResult wal;  // the "wal" entry of `sweeps`: prune --json reports it by name
  bool damaged() const { return !packs.damaged.empty(); }
  // What prune did and did not do about damaged packs, and what to run (Error Corrupt, exit 12).
  Error damage_error() const;
  nlohmann::json to_json() const;  // prune --json
};

// Throws Error(Conflict) while another prune runs, Error(Refused) for an append-only key (unless
// a dry run) and for --grace 0 while a backup runs, Error(Usage) for a bad grace or share.
// Damaged packs do not throw: the result says (damaged(), damage_error()).
PruneResult prune(Repository& repo, const PruneRequest& req, JobContext& ctx);

// `prune --unlock`: removes the prune lock a crashed prune left.
void remove_prune_lock(Repository& repo);

}  // namespace arca::ops
