// Running a drill (docs/drills.md): each component restored from the newest recovery point at or
// before the incident time, validated, and measured — RTO from the drill's start to the
// component's validated service, RPO from the incident back to the newest data it recovered —
// against its objectives. Components run in parallel unless one depends on another; a component
// whose dependency failed is not run (and fails, naming it). Scratch locations are removed
// whatever happens.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "drill/drill_spec.h"
#include "repo/repository.h"
#include "util/job_context.h"

namespace arca::drill {

// One measured step of a component, in seconds since the drill started.
struct Phase {
  // locate, restore, start (PostgreSQL: includes WAL replay), validate; a failover also has
  // catch-up and promote between start and validate
  std::string name;
  double start_s = 0, end_s = 0;
};

struct CheckResult {
  std::string name;
  bool passed = true, skipped = false;
  std::string detail;
};

struct ComponentResult {
  std::string name;
  ComponentKind kind = ComponentKind::Files;
  std::string source;                      // source name, or the paths of a files component
  std::string snapshot_id, snapshot_time;  // the recovery point restored ("" if none was found)
  std::vector<Phase> phases;
  std::vector<CheckResult> checks;
  double rto_s = 0;                    // drill start to validated service (or to the failure)
  std::optional<double> newest_data;   // unix seconds of the newest data recovered
  std::optional<double> rpo_s;         // incident time - newest_data
  // A failover drill (postgres `failover: true`): promote + validate, what failing over to a
  // standby kept caught up at the DR site takes; unset for other components.
  std::optional<double> failover_s;
  Objectives objectives;
  std::optional<bool> rto_ok, rpo_ok;  // unset: no objective
  std::string error;                   // why it could not be restored or validated ("" if it was)
  bool validated() const;              // restored and every check passed
  bool passed() const;                 // validated and every objective met
};

struct DrillResult {
  std::string id;  // 64 random hex digits; the record is drills/<id> in the repository
  std::string name, host;
  double started_at = 0, finished_at = 0, incident_time = 0;
  bool incident_given = false;  // false: the drill's start
  std::vector<ComponentResult> components;
  bool passed() const;
  // 0 passed; 12 a component could not be restored or a validator failed; 17 (kExitObjective)
  // everything restored and validated but an objective was missed.
  int exit_code() const;
  // The same in words: "PASSED", "FAILED" (12), "OBJECTIVE MISSED" (17).
  const char* verdict() const;
};

struct DrillEnvironment {
  // Opens the repository for one component (each component has its own handle: they run at once).
  std::function<std::unique_ptr<Repository>()> open_repository;
  // The PostgreSQL restore_command that fetches WAL for a base backup of this system id.
  std::function<std::string(const std::string& system_id)> wal_fetch_command;
  std::string pg_owner;  // user for scratch PostgreSQL servers when run as root ("" = postgres)
  JobContext* ctx = nullptr;  // cancel, events, progress
};

DrillResult run_drill(const DrillSpec& spec, const DrillEnvironment& env);


}  // namespace arca::drill
