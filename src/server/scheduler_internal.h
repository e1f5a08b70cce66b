// What scheduler.cpp (passes, recovery, reloads) and scheduler_actions.cpp (operator actions and
// plan views) share: the state of a running job and of a plan, and small helpers.
#pragma once
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "server/scheduler.h"

namespace arca::server {

// A job's events, buffered between the operation's threads and the catalog (flushed each pass).
class JobEventBuffer : public EventSink {
 public:
  void emit(const Event& e) override {
    std::lock_guard lk(mu_);
    buf_.push_back(JobEvent{0, ++seq_, now_ ? now_() : 0, e});
  }
  std::vector<JobEvent> take() {
    std::lock_guard lk(mu_);
    return std::exchange(buf_, {});
  }
  std::function<double()> now_;

 private:
  std::mutex mu_;
  std::vector<JobEvent> buf_;
  int64_t seq_ = 0;
};

struct Scheduler::Running {
  JobRecord job;
  std::shared_ptr<const ServerConfig> config;  // the configuration it started with (reloads do not change it)
  PlanConfig plan;
  JobContext ctx;
  JobEventBuffer events;
  std::thread thread;
  bool done = false;  // under mu_
  JobOutcome outcome;
  std::string cancel_reason;  // set when the server cancelled it (window, operator, shutdown)
};

struct Scheduler::PlanRuntime {
  double next_due = 0;
  bool paused = false;
  std::string hash;
  int64_t expected_interval_s = 0;
  uint64_t skipped_overlap = 0, missed = 0;
  JobRef last_job, last_finished, last_success;
  // Streams: restart with backoff.
  double restart_at = 0;
  int64_t backoff_s = 0;
};

std::string fmt_time(double t);                  // "2026-12-07T12:00:00Z"
std::string schedule_text(const ScheduleSpec& s);  // "every 60s", "cron 0 2 * * * (UTC)", "continuous"
std::string plan_hash(const PlanConfig& p);        // of what decides when it fires (edits)
PlanState fresh_state(const std::string& plan);
std::string job_repository(const ServerConfig& cfg, const PlanConfig& p);

}  // namespace arca::server
