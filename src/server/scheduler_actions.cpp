// The scheduler's operator actions (run now, cancel, pause, resume) and its views of plans.
#include "server/scheduler.h"
#include "server/scheduler_internal.h"
#include "util/error.h"

namespace arca::server {

PlanView Scheduler::view(const PlanConfig& p) const {
  const PlanRuntime& rt = *plan_rt_.at(p.name);
  PlanView v;
  v.name = p.name;
  v.kind = p.kind;
  v.source = p.source;
  v.repository = job_repository(*config_, p);
  v.schedule = schedule_text(p.schedule);
  v.paused = rt.paused;
  v.next_due = rt.paused ? 0 : rt.next_due;
  v.expected_interval_s = rt.expected_interval_s;
  v.running = count_plan(p.name, true, false);
  v.pending = count_plan(p.name, false, true);
  v.skipped_overlap = rt.skipped_overlap;
  v.missed = rt.missed;
  v.last_job = rt.last_job;
  v.last_finished = rt.last_finished;
  v.last_success = rt.last_success;
  return v;
}

std::vector<PlanView> Scheduler::plans() {
  std::lock_guard lk(mu_);
  std::vector<PlanView> out;
  for (const auto& p : config_->plans) out.push_back(view(p));
  return out;
}

std::optional<PlanView> Scheduler::plan(const std::string& name) {
  std::lock_guard lk(mu_);
  const PlanConfig* p = config_->plan(name);
  if (!p) return std::nullopt;
  return view(*p);
}

const PlanConfig& Scheduler::known_plan(const std::string& name) const {
  const PlanConfig* p = config_->plan(name);
  if (!p) throw Error(ErrorKind::NotFound, "no plan named '" + name + "' in " + config_->path);
  return *p;
}

JobRecord Scheduler::run_now(const std::string& name, const std::string& who) {
  std::lock_guard lk(mu_);
  if (stopping_) throw Error(ErrorKind::Conflict, "the server is shutting down");
  const PlanConfig& p = known_plan(name);
  double now = hooks_.now();
  if (p.kind == JobKind::Stream) {
    if (count_plan(p.name, true, true) > 0)
      throw Error(ErrorKind::Conflict, "stream " + p.name + " is already running");
    PlanRuntime& rt = *plan_rt_.at(p.name);
    rt.restart_at = 0;
    rt.backoff_s = 0;
  }
  if (p.overlap == OverlapPolicy::Skip && count_plan(p.name, true, true) > 0)
    throw Error(ErrorKind::Conflict, "plan " + p.name + " already has a job running or waiting (overlap: skip); " +
                                         "cancel it first or wait");
  std::optional<JobRecord> j = create_scheduled(p, now, "manual", now);
  if (!j) throw Error(ErrorKind::Conflict, "plan " + p.name + " already has a job queued");
  log(EventLevel::Info, "job " + std::to_string(j->id) + " (plan " + p.name + ") requested by " + who);
  wake();
  return *j;
}

JobRecord Scheduler::cancel(int64_t id, const std::string& who) {
  std::lock_guard lk(mu_);
  double now = hooks_.now();
  std::string why = "cancelled by " + who;
  for (auto it = pending_.begin(); it != pending_.end(); ++it)
    if (it->id == id) {
      JobRecord j = *it;
      pending_.erase(it);
      end_unstarted(j, JobState::Canceled, why, now);
      return j;
    }
  if (auto it = running_.find(id); it != running_.end() && !it->second->done) {
    Running& r = *it->second;
    if (r.cancel_reason.empty()) r.cancel_reason = why;
    r.ctx.cancel.cancel();
    log(EventLevel::Info, "job " + std::to_string(id) + " (plan " + r.job.plan + "): " + why);
    wake();
    return r.job;
  }
  std::optional<JobRecord> j = catalog_.job(id);
  if (!j) throw Error(ErrorKind::NotFound, "no job " + std::to_string(id));
  throw Error(ErrorKind::Conflict,
              "job " + std::to_string(id) + " already ended (" + std::string(state_label(j->state)) + ")");
}

PlanView Scheduler::pause(const std::string& name, const std::string& who) {
  std::lock_guard lk(mu_);
  const PlanConfig& p = known_plan(name);
  double now = hooks_.now();
  PlanRuntime& rt = *plan_rt_.at(name);
  if (!rt.paused) {
    rt.paused = true;
    // Queued jobs do not start while paused; running ones finish (a stream is stopped).
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->plan == name) {
        end_unstarted(*it, JobState::Canceled, "the plan was paused by " + who, now);
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
    if (p.kind == JobKind::Stream)
      for (auto& [id, r] : running_)
        if (r->job.plan == name && !r->done && r->cancel_reason.empty()) {
          r->cancel_reason = "the stream was paused by " + who;
          r->ctx.cancel.cancel();
        }
    PlanState st = catalog_.plan_state(name).value_or(fresh_state(name));
    st.paused = true;
    st.next_due = rt.next_due;
    st.config_hash = rt.hash;
    st.updated_at = now;
    catalog_.put_plan_state(st);
    log(EventLevel::Info, "plan " + name + " paused by " + who);
  }
  return view(p);
}

PlanView Scheduler::resume(const std::string& name, const std::string& who) {
  std::lock_guard lk(mu_);
  const PlanConfig& p = known_plan(name);
  double now = hooks_.now();
  PlanRuntime& rt = *plan_rt_.at(name);
  if (rt.paused) {
    PlanState st = catalog_.plan_state(name).value_or(fresh_state(name));
    st.paused = false;
    st.next_due = rt.next_due;
    rt.paused = false;
    rt.restart_at = 0;
    rt.backoff_s = 0;
    decide_plan(p, PlanEvent::Resumed, st, now);
    log(EventLevel::Info, "plan " + name + " resumed by " + who);
    wake();
  }
  return view(p);
}

}  // namespace arca::server
