// Where each protected component stands: its newest restorable point, the live RPO against its
// objective, the last verification and drill, the next run, any running stream. One computation for the
// API's /status, `arca status`, and the metrics, so they never disagree.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/catalog.h"
#include "server/runtime.h"
#include "server/scheduler.h"

namespace arca::server {

struct ComponentStatus {
  std::string source, kind, repository;
  std::optional<RecoveryPointRecord> newest_point;  // restorable (not partial)
  // now minus the newest restorable data: the newest point's data_time, or for a source with a
  // healthy continuous stream the time it last caught up (PostgreSQL: all WAL archived), if later.
  std::optional<double> live_rpo_s;
  std::optional<int64_t> rpo_objective_s, rto_objective_s;
  bool rpo_ok = true;  // false: live RPO over its objective (or no point at all with an objective)
  std::optional<VerificationRecord> last_verification, last_successful_verification;
  // The newest drill component that restored this source, and the newest that passed (docs/drills.md).
  std::optional<DrillResultRecord> last_drill, last_passed_drill;
  double next_run = 0;  // the soonest next_due of its backup plans (0: none)
  JobRef last_backup, last_successful_backup;
  std::optional<StreamStatus> stream;  // the source's continuous stream (not yet started: not connected)
  bool stream_stalled = false;          // connected, but neither progress nor catch-up for stall_after_s
  std::string state;  // "ok", "at-risk" (RPO over objective, stream stalled, last backup failed), "never-backed-up"
};

struct ServerStatus {
  double now = 0, started_at = 0;
  std::vector<ComponentStatus> components;
  std::map<std::string, RepositoryStatus> repositories;
  std::map<std::string, ReplicationStatus> replications;  // by plan ("<repository>.replicate.<replica>")
  int running_jobs = 0, pending_jobs = 0;
};

// `plans` as PlanControl::plans() gives them.
ServerStatus build_status(const ServerConfig& config, Catalog& catalog, const std::vector<PlanView>& plans,
                          const Runtime& runtime, double started_at, double now);
// Connected, yet nothing stored and not caught up for longer than `stall_after_s` (counted from
// the stream's start when it has done neither yet).
bool stream_stalled(const StreamStatus& s, int64_t stall_after_s, double now);
nlohmann::json to_json(const ComponentStatus& c);
nlohmann::json to_json(const ServerStatus& s);

}  // namespace arca::server
