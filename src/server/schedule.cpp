// Schedule (cron, interval or continuous) and the scheduler's decisions: what a start, an edit or
// a resume does with the times that passed (catch-up), and a job's deadlines (windows).
#include "server/schedule.h"

#include <cmath>

#include "server/catalog.h"
#include "server/civil_time.h"
#include "util/error.h"

namespace arca::server {
namespace {

// Counting what a long downtime missed stops here: "every minute" for two years is ~1M.
constexpr int64_t kMaxCounted = 1'000'000;

// A week in January (no northern DST change; the southern one is in effect all month), so the
// smallest gap is the usual one and not an artefact of a DST day.
constexpr int64_t kReferenceWeek = 1704672000;  // 2024-01-08 00:00 UTC, a Monday

}  // namespace

Schedule Schedule::compile(const ScheduleSpec& spec) {
  Schedule s;
  const bool has_cron = !spec.cron.empty();
  if (spec.interval_s < 0)
    throw Error(ErrorKind::Usage, "schedule: interval " + std::to_string(spec.interval_s) + "s must be positive");
  if (spec.continuous) {
    if (has_cron || spec.interval_s > 0)
      throw Error(ErrorKind::Usage, "schedule: a continuous plan takes neither cron nor interval");
    s.continuous_ = true;
    return s;
  }
  if (has_cron && spec.interval_s > 0) throw Error(ErrorKind::Usage, "schedule: set either cron or interval, not both");
  if (has_cron) {
    s.cron_ = CronSchedule::parse(spec.cron, TimeZone::load(spec.time_zone.empty() ? "UTC" : spec.time_zone));
    // The smallest gap between firings, starting in the reference week and looking at least a
    // week on (and on to a second firing for monthly or yearly expressions).
    auto prev = s.cron_->next_after(kReferenceWeek - 1);
    for (int n = 0; prev && n < 20000; ++n) {
      const auto next = s.cron_->next_after(*prev);
      if (!next || (s.expected_s_ > 0 && *next > kReferenceWeek + 8 * civil::kDay)) break;
      if (s.expected_s_ == 0 || *next - *prev < s.expected_s_) s.expected_s_ = *next - *prev;
      if (s.expected_s_ <= 60) break;  // cannot be smaller
      prev = next;
    }
  } else if (spec.interval_s > 0) {
    if (spec.offset_s < 0 || spec.offset_s >= spec.interval_s)
      throw Error(ErrorKind::Usage, "schedule: offset " + std::to_string(spec.offset_s) +
                                        "s must be at least 0 and less than the interval");
    s.interval_s_ = spec.interval_s;
    s.offset_s_ = spec.offset_s;
    s.expected_s_ = spec.interval_s;
  } else {
    throw Error(ErrorKind::Usage, "schedule: needs a cron expression, an interval or continuous");
  }
  return s;
}

int64_t Schedule::auto_offset(const std::string& plan_name, int64_t interval_s) {
  if (interval_s <= 0) return 0;
  uint64_t h = 14695981039346656037ull;  // FNV-1a: stable across builds and platforms, unlike std::hash
  for (unsigned char c : plan_name) h = (h ^ c) * 1099511628211ull;
  return static_cast<int64_t>(h % static_cast<uint64_t>(interval_s));
}

std::optional<int64_t> Schedule::next_after(int64_t t) const {
  if (cron_) return cron_->next_after(t);
  if (interval_s_ > 0) return (civil::floor_div(t - offset_s_, interval_s_) + 1) * interval_s_ + offset_s_;
  return std::nullopt;
}

std::optional<int64_t> Schedule::last_at_or_before(int64_t t, int64_t not_before) const {
  if (t < not_before) return std::nullopt;
  if (interval_s_ > 0) {
    const int64_t last = civil::floor_div(t - offset_s_, interval_s_) * interval_s_ + offset_s_;
    return last >= not_before ? std::optional(last) : std::nullopt;
  }
  if (!cron_) return std::nullopt;
  // Cron only runs forwards: look at windows going back from t, each twice as long as the last
  // (at most 4 years, inside next_after's 5-year horizon), until one holds a firing.
  constexpr int64_t kMaxWindow = 4 * 366 * civil::kDay;
  int64_t hi = t, window = 3600;
  while (true) {
    const int64_t lo = hi - not_before < window ? not_before : hi - window + 1;
    std::optional<int64_t> best;
    for (auto c = cron_->next_after(lo - 1); c && *c <= hi; c = cron_->next_after(*c)) best = c;
    if (best || lo == not_before) return best;
    hi = lo - 1;
    window = std::min(window * 2, kMaxWindow);
  }
}

int64_t Schedule::expected_interval_s() const { return expected_s_; }

int64_t Schedule::count_between(int64_t from, int64_t to) const {
  if (to < from) return 0;
  if (interval_s_ > 0)
    return civil::floor_div(to - offset_s_, interval_s_) - civil::floor_div(from - 1 - offset_s_, interval_s_);
  int64_t n = 0;
  for (auto c = next_after(from - 1); c && *c <= to && n < kMaxCounted; c = next_after(*c)) ++n;
  return n;
}

namespace {

// The first time that passed without a job: the saved next time, else the one after the newest
// scheduled job (a pause saves no next time), else none (a plan that never ran misses nothing).
std::optional<int64_t> first_unserved(const Schedule& s, const PlanState& state) {
  if (state.next_due > 0) return static_cast<int64_t>(std::ceil(state.next_due));
  if (state.last_scheduled > 0) return s.next_after(static_cast<int64_t>(std::floor(state.last_scheduled)));
  return std::nullopt;
}

}  // namespace

ScheduleDecision decide(const Schedule& schedule, const PlanConfig& plan, PlanEvent event, const PlanState& state,
                        int64_t now) {
  ScheduleDecision d;
  if (schedule.continuous()) return d;
  const bool resumed = event == PlanEvent::Resumed;
  if (state.paused && !resumed) return d;  // paused: no next time until resumed
  d.next_due = schedule.next_after(now).value_or(0);
  if (event == PlanEvent::Created || event == PlanEvent::Edited) {
    if (plan.run_on_create) d.fire_now_for = now;
    return d;
  }
  const auto from = first_unserved(schedule, state);
  if (!from || *from > now) return d;
  d.missed = schedule.count_between(*from, now);
  if (plan.catch_up == CatchUp::One && d.missed > 0) {
    const auto newest = schedule.last_at_or_before(now, *from);
    // A time whose start window has closed is not worth a job any more.
    if (newest && (plan.start_window_s == 0 || *newest + plan.start_window_s >= now)) {
      d.fire_now_for = newest;
      --d.missed;
    }
  }
  return d;
}

double start_deadline(const PlanConfig& plan, double scheduled_at) {
  return plan.start_window_s > 0 ? scheduled_at + static_cast<double>(plan.start_window_s) : 0;
}

double complete_deadline(const PlanConfig& plan, double scheduled_at) {
  return plan.completion_window_s > 0 ? scheduled_at + static_cast<double>(plan.completion_window_s) : 0;
}

}  // namespace arca::server
