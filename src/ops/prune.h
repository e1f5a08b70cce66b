// `arca prune` (also run by `forget --prune`): the prune lock, the active recovery point locks,
// garbage collection of packs (repo/prune.h), then the retention of the WAL archive.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "repo/prune.h"
#include "repo/repository.h"
#include "sources/postgres/wal_retention.h"
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
  WalPruneStats wal;
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
