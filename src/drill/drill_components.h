// One component of a drill: locate its recovery point (the newest at or before the incident),
// restore it (to a scratch location the drill owns, or the explicit directory), start its service
// where it has one, validate, clean up; every step timed as a Phase. Internal to src/drill.
#pragma once
#include "drill/drill_run.h"
#include "sources/postgres/cluster_restore.h"
#include "util/clock.h"

namespace arca::drill {

struct ComponentRun {
  const DrillSpec& spec;
  const ComponentSpec& component;
  const DrillEnvironment& env;
  double drill_start = 0;  // unix seconds
  double incident = 0;     // unix seconds
  bool incident_given = false;
};

// The recovery point a component restores: the newest of its source (files: of its paths and
// host; never a partial one) at or before `incident`, or the one its `snapshot:` names. Throws
// Error(NotFound) naming the source names the repository has when there is none.
Snapshot locate_point(const Repository& repo, const ComponentSpec& component, double incident);

// Times one step: a Phase from the drill's start, closed when the scope ends (also by a throw).
class PhaseTimer {
 public:
  PhaseTimer(ComponentResult& r, double drill_start, std::string name) : r_(r), start_(drill_start) {
    r_.phases.push_back({std::move(name), clock_now_s() - start_, 0});
  }
  ~PhaseTimer() { r_.phases.back().end_s = clock_now_s() - start_; }
  PhaseTimer(const PhaseTimer&) = delete;
  PhaseTimer& operator=(const PhaseTimer&) = delete;

 private:
  ComponentResult& r_;
  double start_;
};

// Where a postgres component's WAL replay stops, from its recover-to and the incident time.
RecoveryTarget pg_recovery_target(const ComponentRun& run);

// The recovery point's id and time into the result.
void fill_point(ComponentResult& r, const Snapshot& s);

// Never throws for the component's own failures: they end up in ComponentResult::error (or a
// failed check). A cancel is rethrown (Error(Cancelled)).
ComponentResult run_component(const ComponentRun& run);

// The scratch directory of one component: "<parent>/arca-drill-<drill>-<component>-XXXXXX",
// holding a marker file naming the drill and its process, so that a later drill can tell its own
// leftovers (from a killed run) from anything else.
std::string make_scratch(const std::string& parent, const std::string& drill, const std::string& component);
// Removes scratch directories under `parent` that a drill made and whose process is gone; returns
// what it removed. Never touches a directory without the marker.
std::vector<std::string> remove_stale_scratch(const std::string& parent);
std::string scratch_parent(const DrillSpec& spec);  // spec.scratch_dir, else $TMPDIR, else /tmp
// "" when a recovery point of this kind carries `source`; else an error message naming the source
// names of that kind that the repository holds (`arca snapshots` shows a server's address, not
// its source name, and a drill file needs the name).
std::string unknown_source(const std::vector<Snapshot>& all, const std::string& kind, const std::string& source);

// What a drill writes to, checked before anything is restored: the scratch parent (when a
// component uses one) an existing directory this process can write into, and each explicit
// `directory` absent or empty, since a drill never restores over data. One message per problem.
std::vector<std::string> check_targets(const DrillSpec& spec);
// The `directory` rule alone: "" when `dir` is absent or an empty directory, else why not.
std::string target_problem(const std::string& dir);

}  // namespace arca::drill
