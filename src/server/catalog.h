// The job catalog: plans' state, jobs with their events, verification and drill results, API
// tokens, and the recovery points seen (a derived index of the repositories: `arca server catalog
// rebuild` recreates it with the drill history, so losing the catalog loses job history, never
// backups). An interface: the embedded
// SQLite catalog is the default (sqlite_catalog.h); a PostgreSQL one for many hosts follows, so
// nothing outside an implementation may assume SQLite. Times are unix seconds (UTC, fractional).
// Every method is safe to call from several threads; errors throw arca::Error.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/job_model.h"
#include "util/job_context.h"

namespace arca::server {

struct PlanState {
  std::string plan;
  bool paused = false;        // set through the API/CLI (pause/resume); the file's `paused` seeds it
  double next_due = 0;        // the next scheduled time (0: none, e.g. continuous or paused)
  double last_scheduled = 0;  // the scheduled time of the newest job created from the schedule
  std::string config_hash;    // of the plan's configuration when next_due was computed (edits)
  double updated_at = 0;
};

struct JobRecord {
  int64_t id = 0;  // assigned by create_job
  std::string plan;
  JobKind kind = JobKind::Backup;
  std::string source, repository;  // as the plan named them ("" where not applicable)
  JobState state = JobState::Pending;
  std::string trigger;  // schedule | catch-up | manual | retry | continuous
  double scheduled_at = 0, created_at = 0, started_at = 0, finished_at = 0;
  double start_deadline = 0;     // not started by then: EXPIRED (0: none)
  double complete_deadline = 0;  // still running then: cancelled (0: none)
  int attempt = 1;               // retries after INTERRUPTED count up
  int64_t retry_of = 0;          // the job this one retries (0: none)
  std::string owner;             // the server instance running it
  double lease_until = 0;        // running: renewed by heartbeats
  std::string reason;            // why it ended as it did (failed, skipped, expired, canceled, ...)
  int warnings = 0;              // PARTIAL: how many
  std::string snapshot_id;       // the recovery point it wrote, if any
  uint64_t bytes_added = 0;      // new data stored by the job
  nlohmann::json result;         // the operation's to_json() (null until it ends)
};

// A job as the scheduler last saw it, shared read-only by the plan views that show it: copying a
// result document per plan and request would dominate the status page's cost.
using JobRef = std::shared_ptr<const JobRecord>;
inline JobRef job_ref(const JobRecord& j) { return std::make_shared<const JobRecord>(j); }

struct JobFilter {
  std::string plan, source, repository;
  std::optional<JobKind> kind;
  std::optional<JobState> state;
  double since = 0;         // created at or after
  int64_t before_id = 0;    // paging: ids below this (0: from the newest)
  int limit = 100;          // at most this many, newest first
};

struct JobEvent {
  int64_t job_id = 0;
  int64_t seq = 0;  // 1, 2, ... within the job
  double time = 0;
  Event event;
};

struct RecoveryPointRecord {
  std::string repository, snapshot_id, kind, source, host;
  double time = 0;       // the point's time
  double data_time = 0;  // the newest data it holds (PostgreSQL: last commit when known; else `time`)
  uint64_t size = 0;     // logical bytes
  bool partial = false;
};

struct VerificationRecord {
  int64_t job_id = 0;
  std::string source, repository;
  std::string kind;  // "pg-verify", "redis-verify", "kafka-verify", "check", "check-read-data"
  double time = 0;
  bool ok = false;
  double duration_s = 0;
  std::string detail;
};

// One component of one drill run (docs/drills.md): what the server ran, or what `catalog rebuild`
// read back from the repository's drill records.
struct DrillResultRecord {
  std::string drill_id;            // the drill record's id (drills/<id> in the repository)
  std::string component;           // the component's name in the drill file
  int64_t job_id = 0;              // 0: read from the repository, not run by this server
  std::string drill;               // the drill's name (its file's `drill:`)
  std::string kind, source, repository;
  double time = 0;                 // the drill's start
  double rto_s = 0;                // drill start to validated service (or to the failure)
  std::optional<double> rpo_s;     // unset: no data time was measured
  std::optional<int64_t> rto_objective_s, rpo_objective_s;
  std::optional<bool> rto_ok, rpo_ok;  // as the drill judged them; unset: no objective
  bool validated = false;          // restored and every check passed
  bool passed = false;             // validated and every objective met
  std::string detail;              // why not ("" when passed)
};

struct TokenRecord {
  std::string id;    // public part, shown in lists ("tok_..."); the secret is never stored
  std::string name;  // what it is for
  std::string role;  // viewer | operator | admin
  std::string hash;  // hex SHA-256 of the whole token
  double created_at = 0, last_used_at = 0;
  bool revoked = false;
};

class Catalog {
 public:
  virtual ~Catalog() = default;

  // Plans' state (the configuration itself lives in the YAML file).
  virtual std::optional<PlanState> plan_state(const std::string& plan) = 0;
  virtual std::vector<PlanState> plan_states() = 0;
  virtual void put_plan_state(const PlanState& s) = 0;

  // Jobs. create_job fills in `id`. start_job moves a PENDING job to RUNNING with a lease, only
  // if it is still PENDING (false otherwise). finish_job records a final state once; a job that
  // already ended is not changed (false).
  virtual int64_t create_job(JobRecord& job) = 0;
  virtual bool start_job(int64_t id, const std::string& owner, double started_at, double lease_until) = 0;
  virtual bool finish_job(const JobRecord& job) = 0;  // by job.id: state, finished_at, reason, warnings,
                                                      // snapshot_id, bytes_added, result
  virtual void renew_leases(const std::string& owner, double lease_until) = 0;
  virtual std::optional<JobRecord> job(int64_t id) = 0;
  virtual std::vector<JobRecord> jobs(const JobFilter& f) = 0;
  // At start: every RUNNING job (whatever its owner: a single-host server owns them all) becomes
  // INTERRUPTED with `reason`, finished now; returns them as they are now.
  virtual std::vector<JobRecord> interrupt_running(double now, const std::string& reason) = 0;
  // PENDING jobs left from before a restart (they are re-examined: started or expired).
  virtual std::vector<JobRecord> pending_jobs() = 0;

  // A job's events, in order; `after_seq` for following a log.
  virtual void add_events(int64_t job_id, const std::vector<JobEvent>& events) = 0;
  virtual std::vector<JobEvent> events(int64_t job_id, int64_t after_seq = 0, int limit = 1000) = 0;

  // Recovery points seen, per repository. replace_points makes the repository's set exactly
  // `points` (a rebuild, or a listing after prune); add_point adds or updates one.
  virtual void replace_points(const std::string& repository, const std::vector<RecoveryPointRecord>& points) = 0;
  virtual void add_point(const RecoveryPointRecord& p) = 0;
  virtual std::vector<RecoveryPointRecord> points(const std::string& source, const std::string& repository = "",
                                                  int limit = 100) = 0;  // newest first
  // The newest complete (not partial) point of each of `sources` that has one, keyed by source:
  // one consistent read, however many sources (the status page asks for all of them at once).
  virtual std::map<std::string, RecoveryPointRecord> newest_points(const std::vector<std::string>& sources) = 0;

  virtual void add_verification(const VerificationRecord& v) = 0;
  virtual std::vector<VerificationRecord> last_verifications() = 0;             // newest per (source, kind)
  virtual std::vector<VerificationRecord> last_successful_verifications() = 0;  // newest ok per (source, kind)

  // Drill results; a (drill_id, component) already present is left as it is (a rebuild reads
  // records the server itself wrote).
  virtual void add_drill_results(const std::vector<DrillResultRecord>& results) = 0;
  virtual std::vector<DrillResultRecord> last_drill_results() = 0;         // newest per (drill, component)
  virtual std::vector<DrillResultRecord> last_passed_drill_results() = 0;  // newest passed per (drill, component)

  virtual void add_token(const TokenRecord& t) = 0;
  virtual std::optional<TokenRecord> token_by_hash(const std::string& hash) = 0;  // revoked ones too
  virtual std::vector<TokenRecord> tokens() = 0;
  virtual bool revoke_token(const std::string& id) = 0;
  virtual void touch_token(const std::string& id, double when) = 0;

  // Housekeeping: delete final jobs (and their events) that finished before `before`.
  virtual int64_t delete_jobs_before(double before) = 0;

  // Claims the catalog for one scheduling server (`owner`: host:pid) until this object is
  // destroyed; a second server on the same catalog would interrupt the first one's running jobs
  // and run every plan twice. Throws Error(Conflict) naming the holder.
  virtual void claim_for_server(const std::string& owner) = 0;
};

// The embedded default: one SQLite file (WAL mode), created with its schema or migrated.
std::unique_ptr<Catalog> open_sqlite_catalog(const std::string& path);

}  // namespace arca::server
