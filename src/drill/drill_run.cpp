// The drill's schedule (components in parallel, dependencies first) and its judgement; what
// each kind of component does is in drill_components.cpp.
#include "drill/drill_run.h"

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "crypto/random.h"
#include "drill/drill_components.h"
#include "ops/error_table.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/host.h"

namespace arca::drill {

bool ComponentResult::validated() const {
  if (!error.empty() || snapshot_id.empty()) return false;
  for (const auto& c : checks)
    if (!c.passed && !c.skipped) return false;
  return true;
}

bool ComponentResult::passed() const { return validated() && rto_ok.value_or(true) && rpo_ok.value_or(true); }

bool DrillResult::passed() const {
  for (const auto& c : components)
    if (!c.passed()) return false;
  return !components.empty();
}

int DrillResult::exit_code() const {
  for (const auto& c : components)
    if (!c.validated()) return kExitCorrupt;
  return passed() ? kExitOk : kExitObjective;
}

const char* DrillResult::verdict() const {
  switch (exit_code()) {
    case kExitOk:
      return "PASSED";
    case kExitObjective:
      return "OBJECTIVE MISSED";
    default:
      return "FAILED";
  }
}

namespace {

// RTO and RPO against the objectives, once the component's work ended.
void judge(ComponentResult& r, double incident) {
  if (r.newest_data) r.rpo_s = incident - *r.newest_data;
  const bool ok = r.validated();
  if (r.objectives.rto_s) r.rto_ok = ok && r.rto_s <= double(*r.objectives.rto_s);
  if (r.objectives.rpo_s) r.rpo_ok = ok && r.rpo_s && *r.rpo_s <= double(*r.objectives.rpo_s);
}

}  // namespace

// Components restored at once, at most: each has its own thread, repository handle (a key
// derivation) and scratch server; more would only compete for the same cores and disk.
constexpr size_t kMaxParallelComponents = 8;

DrillResult run_drill(const DrillSpec& spec, const DrillEnvironment& env) {
  DrillResult out;
  out.id = random_id().hex();
  out.name = spec.name;
  out.host = local_hostname();
  out.started_at = clock_now_s();
  out.incident_given = spec.incident_time.has_value();
  out.incident_time = spec.incident_time.value_or(out.started_at);

  // Results by component, filled by worker threads; a component starts when its dependencies
  // ended, and is skipped (failed, naming them) when one of them did not validate.
  std::mutex mu;
  std::map<std::string, ComponentResult> done;
  std::set<std::string> started;
  std::condition_variable cv;
  bool cancelled = false;
  std::vector<std::thread> workers;

  auto run_one = [&](const ComponentSpec& c) {
    ComponentResult r;
    {
      std::unique_lock lk(mu);
      std::vector<std::string> failed;
      for (const auto& dep : c.depends_on)
        if (!done.at(dep).validated()) failed.push_back(dep);
      if (!failed.empty()) {
        r.name = c.name;
        r.kind = c.kind;
        r.objectives = c.objectives;
        std::string names;
        for (const auto& f : failed) names += (names.empty() ? "" : ", ") + f;
        r.error = "not run: it depends on " + names + ", which did not restore and validate";
      }
    }
    if (r.error.empty()) {
      ComponentRun run{spec, c, env, out.started_at, out.incident_time, out.incident_given};
      try {
        r = run_component(run);
      } catch (const Error& e) {  // a cancel: this component ends, the drill then rethrows
        r.name = c.name;
        r.kind = c.kind;
        r.error = e.what();
        std::lock_guard lk(mu);
        cancelled = true;
      }
    }
    r.rto_s = r.phases.empty() ? 0 : r.phases.back().end_s;
    judge(r, out.incident_time);
    std::lock_guard lk(mu);
    done[c.name] = std::move(r);
    cv.notify_all();
  };

  {
    // The parser refused cycles and unknown names, so each pass starts at least one component
    // or waits for one to end.
    std::unique_lock lk(mu);
    while (done.size() < spec.components.size()) {
      for (const auto& c : spec.components) {
        if (started.count(c.name)) continue;
        if (started.size() - done.size() >= kMaxParallelComponents) break;
        bool ready = true;
        for (const auto& dep : c.depends_on) ready = ready && done.count(dep);
        if (!ready) continue;
        started.insert(c.name);
        workers.emplace_back(run_one, std::cref(c));
      }
      const size_t seen = done.size();
      cv.wait(lk, [&] { return done.size() > seen; });
    }
  }
  for (auto& w : workers) w.join();
  // Also when the cancel came after every component's last cancellable step (a validation that
  // ran to its end): the operator asked to stop, so the drill is not reported or recorded.
  if (cancelled || (env.ctx && env.ctx->cancel.cancelled()))
    throw Error(ErrorKind::Cancelled, "drill " + spec.name + " cancelled");
  for (const auto& c : spec.components) out.components.push_back(done.at(c.name));
  out.finished_at = clock_now_s();
  return out;
}

}  // namespace arca::drill
