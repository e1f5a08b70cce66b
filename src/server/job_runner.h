// Runs one job of a plan through the operation layer (src/ops) and turns what happened into an
// outcome: SUCCESS, PARTIAL (counted warnings), FAILED (with the reason), CANCELED. Never throws
// for a job's own failure; the scheduler records the outcome.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "drill/drill_run.h"
#include "repo/repository.h"
#include "server/catalog.h"
#include "server/config.h"
#include "server/repository_access.h"
#include "server/runtime.h"
#include "util/job_context.h"

namespace arca::server {

struct JobOutcome {
  JobState state = JobState::Failed;
  std::string reason;  // failed/canceled: why; partial: the warnings in one sentence
  int warnings = 0;
  std::string snapshot_id;
  uint64_t bytes_added = 0;
  nlohmann::json result;                          // the operation's to_json()
  std::vector<RecoveryPointRecord> points;        // points written or seen (the catalog index)
  bool points_complete = false;                   // `points` is the repository's whole set (after prune/forget)
  std::string points_repository;                  // ... of this repository
  std::vector<VerificationRecord> verifications;  // verify/check jobs
  std::vector<DrillResultRecord> drill_results;   // drill jobs: one per component
  int exit_code = 0;                              // the CLI's exit code for the same failure (ops/error_table.h)
};

// Runs `job` (its plan is `plan` in `config`). A stream job runs until ctx.cancel; it returns
// FAILED when its stream ends by itself (the scheduler restarts it with backoff). Progress of
// streams and reachability of repositories are reported into `runtime`.
JobOutcome run_job(const ServerConfig& config, const PlanConfig& plan, const JobRecord& job, JobContext& ctx,
                   Runtime& runtime);

// The catalog's records of a drill's components; `source` is the configured source a component
// restored when there is one.
std::vector<DrillResultRecord> drill_result_records(const drill::DrillResult& r, const std::string& repository,
                                                    const std::vector<SourceConfig>& sources);

}  // namespace arca::server
