#include "server/scheduler.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>

#include "crypto/hash.h"
#include "server/scheduler_internal.h"
#include "util/clock.h"
#include "util/error.h"

namespace arca::server {

namespace {

constexpr int kMaxAttempts = 3;  // a job interrupted this often is not retried (it may be what kills the server)

}  // namespace

std::string fmt_time(double t) { return rfc3339_utc(t); }

namespace {

// "1d", "1h30m", "45s".
std::string duration_text(int64_t seconds) {
  std::string text;
  for (auto [unit, secs] : {std::pair{"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}})
    if (seconds >= secs) {
      text += std::to_string(seconds / secs) + unit;
      seconds %= secs;
    }
  return text;
}

}  // namespace

std::string schedule_text(const ScheduleSpec& s) {
  if (s.continuous) return "continuous";
  if (s.interval_s > 0)  // "every 1d", "every 1h30m", "every 1m offset 17s"
    return "every " + duration_text(s.interval_s) + (s.offset_s > 0 ? " offset " + duration_text(s.offset_s) : "");
  return "cron " + s.cron + " (" + s.time_zone + ")";
}

// What decides when a plan fires: an edit of any of these is PlanEvent::Edited.
std::string plan_hash(const PlanConfig& p) {
  std::ostringstream o;
  o << to_string(p.kind) << '\n' << p.source << '\n' << p.repository << '\n' << schedule_text(p.schedule) << '\n'
    << p.start_window_s << '\n' << p.completion_window_s << '\n' << to_string(p.catch_up) << '\n' << p.paused << '\n'
    << p.run_on_create << '\n' << p.replica << '\n' << p.replica_settings;
  std::string text = o.str();
  return sha256(ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size())).hex().substr(0, 16);
}

PlanState fresh_state(const std::string& plan) {
  PlanState s;
  s.plan = plan;
  return s;
}

std::string job_repository(const ServerConfig& cfg, const PlanConfig& p) {
  if (!p.repository.empty()) return p.repository;
  const SourceConfig* s = cfg.source(p.source);
  return s ? s->repository : "";
}

std::vector<ConfigError> check_schedules(const ServerConfig& config) {
  std::vector<ConfigError> out;
  for (const auto& p : config.plans) {
    try {
      Schedule::compile(p.schedule);
    } catch (const Error& e) {
      ConfigError ce;
      ce.line = p.line;
      ce.field = "plans." + p.name + ".schedule" + (p.schedule.cron.empty() ? "" : ".cron");
      ce.message = e.what();
      out.push_back(ce);
    }
  }
  return out;
}

Scheduler::Scheduler(Catalog& catalog, std::shared_ptr<const ServerConfig> config, SchedulerHooks hooks,
                     std::string owner)
    : catalog_(catalog), hooks_(std::move(hooks)), owner_(std::move(owner)), config_(std::move(config)) {
  for (const auto& p : config_->plans) schedules_.emplace(p.name, Schedule::compile(p.schedule));
}

Scheduler::~Scheduler() {
  stop(0);
  // Workers that did not stop keep references to this object: wait for them.
  std::vector<std::shared_ptr<Running>> left;
  {
    std::lock_guard lk(mu_);
    for (auto& [id, r] : running_) left.push_back(r);
  }
  for (auto& r : left)
    if (r->thread.joinable()) r->thread.join();
}

void Scheduler::log(EventLevel level, const std::string& msg) const {
  if (hooks_.log) hooks_.log(level, msg);
}

void Scheduler::notify(const JobRecord& j) const {
  if (hooks_.on_job) hooks_.on_job(j);
}

void Scheduler::wake() {
  woken_ = true;
  cv_.notify_all();
}

std::shared_ptr<const ServerConfig> Scheduler::config() const {
  std::lock_guard lk(mu_);
  return config_;
}

void Scheduler::recover() {
  std::lock_guard lk(mu_);
  double now = hooks_.now();
  started_at_ = now;
  for (JobRecord& j : catalog_.interrupt_running(now, "the server stopped while the job was running")) {
    log(EventLevel::Warning, "job " + std::to_string(j.id) + " (plan " + j.plan + ") was INTERRUPTED by a server stop");
    notify(j);
    const PlanConfig* p = config_->plan(j.plan);
    std::string why;
    if (!p)
      why = "its plan is no longer configured";
    else if (j.kind == JobKind::Stream)
      why = "";  // streams restart by themselves
    else if (j.start_deadline > 0 && now > j.start_deadline)
      why = "its start window closed at " + fmt_time(j.start_deadline);
    else if (j.attempt >= kMaxAttempts)
      why = "it was interrupted " + std::to_string(j.attempt) + " times";
    if (j.kind == JobKind::Stream) continue;
    if (!why.empty()) {
      log(EventLevel::Warning, "job " + std::to_string(j.id) + " is not retried: " + why);
      Event e{EventLevel::Warning, "job.not_retried", "not retried: " + why, {}};
      catalog_.add_events(j.id, {JobEvent{j.id, 0, now, e}});
      continue;
    }
    JobRecord retry = j;
    retry.id = 0;
    retry.state = JobState::Pending;
    retry.trigger = "retry";
    retry.created_at = now;
    retry.started_at = retry.finished_at = retry.lease_until = 0;
    retry.attempt = j.attempt + 1;
    retry.retry_of = j.id;
    retry.owner.clear();
    retry.reason = "retry of job " + std::to_string(j.id) + ", interrupted by a server stop";
    retry.warnings = 0;
    retry.snapshot_id.clear();
    retry.bytes_added = 0;
    retry.result = nullptr;
    catalog_.create_job(retry);
    pending_.push_back(retry);
    log(EventLevel::Info, "job " + std::to_string(retry.id) + " retries job " + std::to_string(j.id));
  }
  for (JobRecord& j : catalog_.pending_jobs())
    if (std::none_of(pending_.begin(), pending_.end(), [&](const JobRecord& q) { return q.id == j.id; }))
      pending_.push_back(j);
  std::sort(pending_.begin(), pending_.end(), [](const JobRecord& a, const JobRecord& b) { return a.id < b.id; });

  for (const auto& p : config_->plans) {
    auto rt = std::make_shared<PlanRuntime>();
    plan_rt_[p.name] = rt;
    seed_history(p.name, *rt);
    std::optional<PlanState> st = catalog_.plan_state(p.name);
    PlanEvent ev = !st ? PlanEvent::Created : st->config_hash != plan_hash(p) ? PlanEvent::Edited : PlanEvent::Start;
    decide_plan(p, ev, st.value_or(fresh_state(p.name)), now);
  }
  last_tick_ = now;
}

void Scheduler::seed_history(const std::string& plan, PlanRuntime& rt) {
  JobFilter f;
  f.plan = plan;
  f.limit = 20;
  auto last = catalog_.jobs(f);
  if (!last.empty()) rt.last_job = job_ref(last.front());
  for (const JobRecord& j : last)
    if (is_final(j.state)) {
      rt.last_finished = job_ref(j);
      break;
    }
  f.limit = 1;
  f.state = JobState::Success;
  auto ok = catalog_.jobs(f);
  if (!ok.empty()) rt.last_success = job_ref(ok.front());
}

// Decides a plan's next time after a start, an edit, a creation or a resume, and fires the
// catch-up job when the decision asks for one.
void Scheduler::decide_plan(const PlanConfig& p, PlanEvent event, PlanState st, double now) {
  PlanRuntime& rt = *plan_rt_.at(p.name);
  if (event == PlanEvent::Created || event == PlanEvent::Edited) st.paused = p.paused;
  rt.paused = st.paused;
  rt.hash = plan_hash(p);
  const Schedule& sched = schedules_.at(p.name);
  rt.expected_interval_s = sched.expected_interval_s();
  if (sched.continuous()) {
    rt.next_due = 0;
  } else if (rt.paused) {
    // Keeps the time it was due when paused: resuming counts what was missed since.
    rt.next_due = st.next_due;
  } else {
    ScheduleDecision d = decide(sched, p, event, st, static_cast<int64_t>(std::floor(now)));
    rt.missed += d.missed;
    if (d.missed > 0)
      log(EventLevel::Info, "plan " + p.name + ": " + std::to_string(d.missed) +
                                " scheduled time(s) passed while it could not run (catch-up " +
                                std::string(to_string(p.catch_up)) + ")");
    rt.next_due = static_cast<double>(d.next_due);
    if (d.fire_now_for) {
      std::string trigger = event == PlanEvent::Created || event == PlanEvent::Edited ? "run-on-create" : "catch-up";
      create_scheduled(p, static_cast<double>(*d.fire_now_for), trigger, now);
      st.last_scheduled = static_cast<double>(*d.fire_now_for);
    }
  }
  st.plan = p.name;
  st.next_due = rt.next_due;
  st.config_hash = rt.hash;
  st.updated_at = now;
  catalog_.put_plan_state(st);
}

JobRecord Scheduler::new_job(const PlanConfig& p, double scheduled_at, const std::string& trigger, double now) const {
  JobRecord j;
  j.plan = p.name;
  j.kind = p.kind;
  j.source = p.source;
  j.repository = job_repository(*config_, p);
  j.state = JobState::Pending;
  j.trigger = trigger;
  j.scheduled_at = scheduled_at;
  j.created_at = now;
  j.start_deadline = start_deadline(p, scheduled_at);
  j.complete_deadline = complete_deadline(p, scheduled_at);
  return j;
}

void Scheduler::end_unstarted(JobRecord& j, JobState state, const std::string& reason, double now) {
  j.state = state;
  j.reason = reason;
  j.finished_at = now;
  catalog_.finish_job(j);
  if (auto it = plan_rt_.find(j.plan); it != plan_rt_.end()) {
    auto ref = job_ref(j);
    if (!it->second->last_job || it->second->last_job->id <= j.id) it->second->last_job = ref;
    it->second->last_finished = ref;
  }
  if (hooks_.on_finished) hooks_.on_finished(j);
  notify(j);
  log(state == JobState::Canceled ? EventLevel::Info : EventLevel::Warning,
      "job " + std::to_string(j.id) + " (plan " + j.plan + ") " + std::string(state_label(state)) + ": " + reason);
}

int Scheduler::count_plan(const std::string& plan, bool running, bool pending) const {
  int n = 0;
  if (running)
    for (const auto& [id, r] : running_) n += r->job.plan == plan && !r->done;
  if (pending)
    for (const auto& j : pending_) n += j.plan == plan;
  return n;
}

// A job for a scheduled time (or run now), under the plan's overlap policy.
std::optional<JobRecord> Scheduler::create_scheduled(const PlanConfig& p, double scheduled_at,
                                                     const std::string& trigger, double now) {
  JobRecord j = new_job(p, scheduled_at, trigger, now);
  PlanRuntime& rt = *plan_rt_.at(p.name);
  int running = count_plan(p.name, true, false), pending = count_plan(p.name, false, true);
  if (running + pending > 0) {
    switch (p.overlap) {
      case OverlapPolicy::Skip: {
        catalog_.create_job(j);
        ++rt.skipped_overlap;
        end_unstarted(j, JobState::Skipped,
                      "the plan's previous job is still " + std::string(running ? "running" : "waiting to start") +
                          " (overlap: skip)",
                      now);
        return std::nullopt;
      }
      case OverlapPolicy::Queue:
        if (pending > 0) {  // one queued job stands for every time that passed meanwhile
          catalog_.create_job(j);
          ++rt.skipped_overlap;
          end_unstarted(j, JobState::Skipped, "a job of this plan is already queued (overlap: queue keeps one)", now);
          return std::nullopt;
        }
        break;
      case OverlapPolicy::CancelPrevious: {
        std::string why = "replaced by the job scheduled at " + fmt_time(scheduled_at) + " (overlap: cancel-previous)";
        for (auto it = pending_.begin(); it != pending_.end();) {
          if (it->plan == p.name) {
            end_unstarted(*it, JobState::Canceled, why, now);
            it = pending_.erase(it);
          } else {
            ++it;
          }
        }
        for (auto& [id, r] : running_)
          if (r->job.plan == p.name && !r->done && r->cancel_reason.empty()) {
            r->cancel_reason = why;
            r->ctx.cancel.cancel();
          }
        break;
      }
    }
  }
  catalog_.create_job(j);
  pending_.push_back(j);
  rt.last_job = job_ref(j);
  notify(j);
  return j;
}

std::string Scheduler::blocked_by(const JobRecord& j) const {
  if (stopping_) return "the server is stopping";
  if (j.kind == JobKind::Stream) return "";
  int global = 0, repo = 0, source = 0, plan = 0;
  for (const auto& [id, r] : running_) {
    if (r->done) continue;
    if (r->job.plan == j.plan) ++plan;
    if (r->job.kind == JobKind::Stream) continue;
    ++global;
    if (!j.repository.empty() && r->job.repository == j.repository) ++repo;
    if (!j.source.empty() && r->job.source == j.source) ++source;
  }
  if (plan > 0) return "the plan's previous job is still running";
  if (global >= config_->server.max_jobs)
    return "the server's job limit (max-jobs " + std::to_string(config_->server.max_jobs) + ") was reached";
  if (const RepositoryConfig* rc = config_->repository(j.repository); rc && rc->max_jobs > 0 && repo >= rc->max_jobs)
    return "repository " + j.repository + "'s job limit (max-jobs " + std::to_string(rc->max_jobs) + ") was reached";
  if (const SourceConfig* sc = config_->source(j.source); sc && sc->max_jobs > 0 && source >= sc->max_jobs)
    return "source " + j.source + "'s job limit (max-jobs " + std::to_string(sc->max_jobs) + ") was reached";
  return "";
}

void Scheduler::start_job(JobRecord job, const PlanConfig& p, double pass_now) {
  // The real start (a pass with many catalog writes takes a while): start delays are measured from it.
  double now = std::max(pass_now, hooks_.now());
  if (!catalog_.start_job(job.id, owner_, now, now + static_cast<double>(config_->server.lease_s))) return;
  job.state = JobState::Running;
  job.started_at = now;
  job.owner = owner_;
  job.lease_until = now + static_cast<double>(config_->server.lease_s);
  auto r = std::make_shared<Running>();
  r->job = job;
  r->config = config_;
  r->plan = p;
  r->events.now_ = hooks_.now;
  r->ctx.events = &r->events;
  running_[job.id] = r;
  plan_rt_.at(p.name)->last_job = job_ref(job);
  notify(job);
  log(EventLevel::Info, "job " + std::to_string(job.id) + " (plan " + p.name + ", " + std::string(to_string(p.kind)) +
                            (job.source.empty() ? "" : " of " + job.source) + ") started");
  r->thread = std::thread([this, r] {
    JobOutcome out;
    try {
      out = hooks_.execute(*r->config, r->plan, r->job, r->ctx);
    } catch (const std::exception& e) {
      out.state = r->ctx.cancel.cancelled() ? JobState::Canceled : JobState::Failed;
      out.reason = e.what();
    }
    std::lock_guard lk(mu_);
    r->outcome = std::move(out);
    r->done = true;
    wake();
  });
}

void Scheduler::finish(Running& r, double now) {
  if (r.thread.joinable()) r.thread.join();
  JobRecord& j = r.job;
  JobOutcome& o = r.outcome;
  j.state = is_final(o.state) ? o.state : JobState::Failed;
  if (!o.reason.empty() || j.trigger != "retry") j.reason = o.reason;  // a retry keeps "retry of job N" on success
  if (j.state == JobState::Canceled && !r.cancel_reason.empty()) j.reason = r.cancel_reason;
  j.warnings = o.warnings;
  j.snapshot_id = o.snapshot_id;
  j.bytes_added = o.bytes_added;
  j.result = o.result;
  j.finished_at = now;
  auto events = r.events.take();
  for (auto& e : events) e.job_id = j.id;
  try {
    if (!events.empty()) catalog_.add_events(j.id, events);
    if (o.points_complete)
      catalog_.replace_points(o.points_repository, o.points);
    else
      for (const auto& pt : o.points) catalog_.add_point(pt);
    for (auto v : o.verifications) {
      v.job_id = j.id;
      catalog_.add_verification(v);
    }
    if (!o.drill_results.empty()) {
      auto drills = o.drill_results;
      for (auto& d : drills) d.job_id = j.id;
      catalog_.add_drill_results(drills);
    }
  } catch (const std::exception& e) {
    log(EventLevel::Error, "job " + std::to_string(j.id) + ": recording its results failed: " + e.what());
  }
  catalog_.finish_job(j);
  auto rt_it = plan_rt_.find(j.plan);
  if (rt_it != plan_rt_.end()) {
    PlanRuntime& rt = *rt_it->second;
    auto ref = job_ref(j);
    if (!rt.last_job || rt.last_job->id <= j.id) rt.last_job = ref;
    rt.last_finished = ref;
    if (j.state == JobState::Success) rt.last_success = ref;
    if (j.kind == JobKind::Stream) {
      // A stream that ran a while before failing starts again at the shortest backoff.
      const SourceConfig* sc = r.config->source(j.source);
      StreamConfig sc_stream = sc ? sc->stream : StreamConfig{};
      bool long_run = now - j.started_at > static_cast<double>(std::max<int64_t>(sc_stream.backoff_max_s, 60));
      rt.backoff_s = (rt.backoff_s == 0 || long_run) ? sc_stream.backoff_min_s
                                                      : std::min(rt.backoff_s * 2, sc_stream.backoff_max_s);
      rt.restart_at = now + static_cast<double>(rt.backoff_s);
      if (!stopping_)
        log(EventLevel::Warning, "stream " + j.plan + " ended (" + std::string(state_label(j.state)) + ": " + j.reason +
                                     "); restarting in " + std::to_string(rt.backoff_s) + " s");
    }
  }
  if (hooks_.on_finished) hooks_.on_finished(j);
  notify(j);
  log(j.state == JobState::Success ? EventLevel::Info : EventLevel::Warning,
      "job " + std::to_string(j.id) + " (plan " + j.plan + ") " + std::string(state_label(j.state)) + " after " +
          std::to_string(static_cast<int64_t>(now - j.started_at)) + " s" + (j.reason.empty() ? "" : ": " + j.reason));
}

double Scheduler::tick() {
  std::lock_guard lk(mu_);
  double now = hooks_.now();
  last_tick_ = now;
  double next = now + 60;

  // Jobs that ended.
  for (auto it = running_.begin(); it != running_.end();) {
    if (it->second->done) {
      finish(*it->second, now);
      it = running_.erase(it);
    } else {
      ++it;
    }
  }
  if (stopping_) return now + 1;

  // Scheduled times that came.
  for (const auto& p : config_->plans) {
    PlanRuntime& rt = *plan_rt_.at(p.name);
    const Schedule& sched = schedules_.at(p.name);
    if (sched.continuous() || rt.paused || rt.next_due <= 0) continue;
    if (rt.next_due <= now) {
      double due = rt.next_due;
      // Times that passed between two passes (a suspended host, a stalled clock) are missed, not run.
      std::optional<int64_t> n = sched.next_after(static_cast<int64_t>(due));
      int guard = 0;
      while (n && static_cast<double>(*n) <= now && guard++ < 100000) {
        ++rt.missed;
        due = static_cast<double>(*n);
        n = sched.next_after(*n);
      }
      // Started at once when the limits allow: with many plans due together, the first jobs
      // must not wait for the rest of this pass's catalog writes.
      if (std::optional<JobRecord> j = create_scheduled(p, due, "schedule", now); j && blocked_by(*j).empty()) {
        std::erase_if(pending_, [&](const JobRecord& q) { return q.id == j->id; });
        start_job(*j, p, now);
      }
      rt.next_due = n ? static_cast<double>(*n) : 0;
      PlanState st = catalog_.plan_state(p.name).value_or(fresh_state(p.name));
      st.next_due = rt.next_due;
      st.last_scheduled = due;
      st.paused = rt.paused;
      st.config_hash = rt.hash;
      st.updated_at = now;
      catalog_.put_plan_state(st);
    }
    if (rt.next_due > 0) next = std::min(next, rt.next_due);
  }

  // Streams: one job each, restarted with backoff.
  for (const auto& p : config_->plans) {
    if (p.kind != JobKind::Stream) continue;
    PlanRuntime& rt = *plan_rt_.at(p.name);
    if (rt.paused || count_plan(p.name, true, true) > 0) continue;
    if (rt.restart_at > now) {
      next = std::min(next, rt.restart_at);
      continue;
    }
    JobRecord j = new_job(p, now, "continuous", now);
    catalog_.create_job(j);
    pending_.push_back(j);
  }

  // Pending jobs: expire those whose start window closed, start those the limits allow (oldest first).
  for (auto it = pending_.begin(); it != pending_.end();) {
    JobRecord& j = *it;
    const PlanConfig* p = config_->plan(j.plan);
    std::string blocked = p ? blocked_by(j) : "";
    if (!p) {
      end_unstarted(j, JobState::Canceled, "its plan was removed from the configuration", now);
      it = pending_.erase(it);
    } else if (j.complete_deadline > 0 && now >= j.complete_deadline) {
      // Starting it now could only end in a cancel: it never ran.
      end_unstarted(j, JobState::Expired,
                    "its completion window closed (at " + fmt_time(j.complete_deadline) + ") before it could start" +
                        (blocked.empty() ? "" : ": " + blocked),
                    now);
      it = pending_.erase(it);
    } else if (j.start_deadline > 0 && now > j.start_deadline) {
      end_unstarted(j, JobState::Expired,
                    "could not start within its start window (until " + fmt_time(j.start_deadline) + ")" +
                        (blocked.empty() ? "" : ": " + blocked),
                    now);
      it = pending_.erase(it);
    } else if (blocked.empty()) {
      JobRecord job = j;
      it = pending_.erase(it);
      start_job(job, *p, now);
    } else {
      if (j.start_deadline > 0) next = std::min(next, j.start_deadline + 0.001);
      ++it;
    }
  }

  // Completion windows.
  for (auto& [id, r] : running_) {
    if (r->done || r->job.complete_deadline <= 0) continue;
    if (now > r->job.complete_deadline) {
      if (r->cancel_reason.empty()) {
        r->cancel_reason = "ran past its completion window (until " + fmt_time(r->job.complete_deadline) + ")";
        r->ctx.cancel.cancel();
        log(EventLevel::Warning, "job " + std::to_string(id) + " (plan " + r->job.plan + ") " + r->cancel_reason +
                                     ": cancelling");
      }
    } else {
      next = std::min(next, r->job.complete_deadline + 0.001);
    }
  }

  // Leases, and the events of running jobs.
  if (!running_.empty()) {
    if (now - last_lease_renewal_ >= static_cast<double>(config_->server.lease_s) / 3) {
      catalog_.renew_leases(owner_, now + static_cast<double>(config_->server.lease_s));
      last_lease_renewal_ = now;
    }
    next = std::min(next, last_lease_renewal_ + static_cast<double>(config_->server.lease_s) / 3);
    for (auto& [id, r] : running_) {
      auto events = r->events.take();
      for (auto& e : events) e.job_id = id;
      if (!events.empty()) catalog_.add_events(id, events);
    }
  }
  return next;
}

void Scheduler::loop() {
  std::unique_lock lk(mu_);
  while (!stopping_) {
    lk.unlock();
    double next = 0;
    try {
      next = tick();
    } catch (const std::exception& e) {
      // The catalog failed (disk full, I/O error): say so and try again; the jobs keep running.
      log(EventLevel::Error, std::string("scheduler pass failed: ") + e.what());
      next = hooks_.now() + 5;
    }
    lk.lock();
    if (stopping_) break;
    // At most a second between passes: clock jumps and suspends are noticed quickly.
    double wait = std::clamp(next - hooks_.now(), 0.0, 1.0);
    if (!woken_) cv_.wait_for(lk, std::chrono::duration<double>(wait), [this] { return woken_ || stopping_; });
    woken_ = false;
  }
}

void Scheduler::start() {
  std::lock_guard lk(mu_);
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { loop(); });
}

bool Scheduler::stop(double grace_s) {
  {
    std::lock_guard lk(mu_);
    if (!stopping_) {
      stopping_ = true;
      double now = hooks_.now();
      for (auto& j : pending_) end_unstarted(j, JobState::Canceled, "the server is shutting down", now);
      pending_.clear();
      for (auto& [id, r] : running_)
        if (!r->done && r->cancel_reason.empty()) {
          r->cancel_reason = "the server is shutting down";
          r->ctx.cancel.cancel();
        }
    }
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  // Wait (real time) for the running jobs to honour their cancel token.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(grace_s);
  std::unique_lock lk(mu_);
  while (true) {
    for (auto it = running_.begin(); it != running_.end();) {
      if (it->second->done) {
        finish(*it->second, hooks_.now());
        it = running_.erase(it);
      } else {
        ++it;
      }
    }
    if (running_.empty()) return true;
    if (std::chrono::steady_clock::now() >= deadline) break;
    cv_.wait_for(lk, std::chrono::milliseconds(50));
  }
  for (auto& [id, r] : running_)
    log(EventLevel::Error, "job " + std::to_string(id) + " (plan " + r->job.plan +
                               ") did not stop in time; it stays RUNNING and is INTERRUPTED at the next start");
  return false;
}

bool Scheduler::wait_idle(double timeout_s) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    tick();
    {
      std::lock_guard lk(mu_);
      bool busy = !running_.empty();
      for (const auto& j : pending_) busy = busy || blocked_by(j).empty();
      if (!busy) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

void Scheduler::reload(std::shared_ptr<const ServerConfig> config) {
  std::lock_guard lk(mu_);
  double now = hooks_.now();
  std::map<std::string, Schedule> schedules;
  for (const auto& p : config->plans) schedules.emplace(p.name, Schedule::compile(p.schedule));
  auto old = config_;
  config_ = std::move(config);
  schedules_ = std::move(schedules);
  std::map<std::string, std::shared_ptr<PlanRuntime>> rts;
  for (const auto& p : config_->plans) {
    auto it = plan_rt_.find(p.name);
    if (it != plan_rt_.end() && it->second->hash == plan_hash(p)) {
      rts[p.name] = it->second;
      continue;
    }
    bool edited = it != plan_rt_.end();
    auto rt = edited ? it->second : std::make_shared<PlanRuntime>();
    rts[p.name] = rt;
    if (!edited) seed_history(p.name, *rt);
    std::optional<PlanState> st = catalog_.plan_state(p.name);
    log(EventLevel::Info, "plan " + p.name + (edited ? " changed" : " added"));
    plan_rt_[p.name] = rt;
    decide_plan(p, st ? PlanEvent::Edited : PlanEvent::Created, st.value_or(fresh_state(p.name)), now);
    // A stream restarts with its new settings (it resumes where it stopped).
    if (edited && p.kind == JobKind::Stream)
      for (auto& [id, r] : running_)
        if (r->job.plan == p.name && !r->done && r->cancel_reason.empty()) {
          r->cancel_reason = "restarting with the changed configuration";
          r->ctx.cancel.cancel();
          rt->backoff_s = 0;
          rt->restart_at = 0;
        }
  }
  for (auto& [name, rt] : plan_rt_) {
    if (rts.count(name)) continue;
    log(EventLevel::Info, "plan " + name + " removed");
    // Streams have no end of their own: a removed stream is stopped. Other running jobs finish.
    for (auto& [id, r] : running_)
      if (r->job.plan == name && r->job.kind == JobKind::Stream && !r->done && r->cancel_reason.empty()) {
        r->cancel_reason = "its plan was removed from the configuration";
        r->ctx.cancel.cancel();
      }
  }
  plan_rt_ = std::move(rts);
  wake();
}

}  // namespace arca::server
