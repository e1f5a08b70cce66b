// The scheduler: turns plans into jobs and runs them. It creates jobs when their time comes
// (catch-up, start windows, overlap policies), starts them inside the concurrency limits (the
// server's, each repository's, each source's), cancels those that outrun their completion window,
// keeps their leases, supervises continuous streams (restart with backoff), and records every
// outcome in the catalog. Operator actions (run now, cancel, pause, resume) come here from the
// API and the CLI alike. Time comes from hooks.now(), so tests drive it with a fake clock and
// call tick() themselves; `arca server` calls start().
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "server/catalog.h"
#include "server/config.h"
#include "server/job_runner.h"
#include "server/schedule.h"

namespace arca::server {

struct SchedulerHooks {
  std::function<double()> now;  // unix seconds
  // Runs one job to its end (job_runner's run_job in the server; a fake in tests). Called on a
  // worker thread; must honour ctx.cancel.
  std::function<JobOutcome(const ServerConfig&, const PlanConfig&, const JobRecord&, JobContext&)> execute;
  // After a job's state changed (created, started, finished) — notifications. May be null.
  std::function<void(const JobRecord&)> on_job;
  // After a job reached a final state (metrics). May be null.
  std::function<void(const JobRecord&)> on_finished;
  // A line for the server's log (level, message). May be null.
  std::function<void(EventLevel, const std::string&)> log;
};

// Errors in the plans' schedules (cron fields, time zones) that the configuration's own checks
// leave to the schedule compiler: check-config and reloads report them with the plan's line.
std::vector<ConfigError> check_schedules(const ServerConfig& config);

// What the API, the CLI and the metrics show for a plan.
struct PlanView {
  std::string name;
  JobKind kind = JobKind::Backup;
  std::string source, repository, schedule;  // schedule: "cron 0 2 * * 0 (UTC)", "every 1h", "continuous"
  bool paused = false;
  double next_due = 0;           // 0: none
  int64_t expected_interval_s = 0;
  int running = 0, pending = 0;
  uint64_t skipped_overlap = 0;  // since the server started
  uint64_t missed = 0;           // scheduled times that passed without a job (downtime, pause), since start
  JobRef last_job;       // the newest job, whatever its state (pending, running, ...); null: none
  JobRef last_finished;  // the newest job that ended (any final state)
  JobRef last_success;
};

// What the API and the CLI may ask of the scheduler: an interface, so that front ends and their
// tests do not need a running scheduler.
class PlanControl {
 public:
  virtual ~PlanControl() = default;
  // Error(NotFound) for an unknown plan or job; Error(Conflict) when the action cannot apply
  // (cancel a job that already ended). Running a paused plan now is allowed.
  virtual JobRecord run_now(const std::string& plan, const std::string& who) = 0;
  virtual JobRecord cancel(int64_t job_id, const std::string& who) = 0;
  virtual PlanView pause(const std::string& plan, const std::string& who) = 0;
  virtual PlanView resume(const std::string& plan, const std::string& who) = 0;
  virtual std::vector<PlanView> plans() = 0;
  virtual std::optional<PlanView> plan(const std::string& name) = 0;
  virtual std::shared_ptr<const ServerConfig> config() const = 0;
};

class Scheduler : public PlanControl {
 public:
  Scheduler(Catalog& catalog, std::shared_ptr<const ServerConfig> config, SchedulerHooks hooks, std::string owner);
  ~Scheduler();  // stop(0) if still running
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Once, before the first tick: RUNNING jobs of a previous life become INTERRUPTED (retried when
  // still inside their start window, as a new job with attempt+1), PENDING ones are re-examined,
  // and every plan's next time is decided (PlanEvent::Start / Created).
  void recover();
  // One pass at hooks.now(): expire, create due jobs, start what the limits allow, enforce
  // completion windows, renew leases, restart streams. Returns when the next pass is needed.
  double tick();
  // A thread that calls tick() when needed (and at once after any change). recover() first.
  void start();
  // Cancels every running job, waits up to grace_s for them to end (recorded CANCELED, reason
  // "the server is shutting down"), then stops the thread. Jobs that do not stop in time stay
  // RUNNING in the catalog and become INTERRUPTED at the next start: stop() returns false, and the
  // caller should exit the process without destroying the scheduler.
  bool stop(double grace_s);
  // Waits until no job runs or is pending-and-startable (tests).
  bool wait_idle(double timeout_s);

  // A new configuration: plans added (Created), changed (Edited), removed (their pending jobs
  // are cancelled); running jobs keep the configuration they started with.
  void reload(std::shared_ptr<const ServerConfig> config);
  std::shared_ptr<const ServerConfig> config() const override;

  JobRecord run_now(const std::string& plan, const std::string& who) override;
  JobRecord cancel(int64_t job_id, const std::string& who) override;
  PlanView pause(const std::string& plan, const std::string& who) override;
  PlanView resume(const std::string& plan, const std::string& who) override;
  std::vector<PlanView> plans() override;
  std::optional<PlanView> plan(const std::string& name) override;
  double started_at() const { return started_at_; }
  double last_tick_at() const { return last_tick_.load(); }

 private:
  struct Running;
  struct PlanRuntime;
  // All below run with mu_ held.
  void seed_history(const std::string& plan, PlanRuntime& rt);
  void decide_plan(const PlanConfig& p, PlanEvent event, PlanState st, double now);
  JobRecord new_job(const PlanConfig& p, double scheduled_at, const std::string& trigger, double now) const;
  std::optional<JobRecord> create_scheduled(const PlanConfig& p, double scheduled_at, const std::string& trigger,
                                            double now);
  void end_unstarted(JobRecord& j, JobState state, const std::string& reason, double now);
  int count_plan(const std::string& plan, bool running, bool pending) const;
  std::string blocked_by(const JobRecord& job) const;  // "" when the limits let it start
  void start_job(JobRecord job, const PlanConfig& p, double now);
  void finish(Running& r, double now);
  PlanView view(const PlanConfig& p) const;
  const PlanConfig& known_plan(const std::string& name) const;
  void log(EventLevel level, const std::string& msg) const;
  void notify(const JobRecord& j) const;
  void wake();
  void loop();

  Catalog& catalog_;
  SchedulerHooks hooks_;
  std::string owner_;
  double started_at_ = 0;
  std::atomic<double> last_tick_{0};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<const ServerConfig> config_;
  std::map<std::string, Schedule> schedules_;
  std::map<std::string, std::shared_ptr<PlanRuntime>> plan_rt_;
  std::map<int64_t, std::shared_ptr<Running>> running_;
  std::vector<JobRecord> pending_;  // oldest first
  double last_lease_renewal_ = 0;
  bool stopping_ = false, woken_ = false;
  std::thread thread_;
};

}  // namespace arca::server
