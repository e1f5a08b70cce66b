// When plans fire: 5-field cron expressions in an IANA time zone (DST included), intervals, and
// the decisions a scheduler makes with them — the next time, what a restart, an edit or an
// unpause does (catch-up), and whether a job can still start (start window). Pure functions of
// their inputs and a given "now", so that tests drive them with a fake clock.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "server/config.h"

namespace arca::server {

struct PlanState;  // server/catalog.h

// A time zone read from the system's tz database (/usr/share/zoneinfo, TZif files).
class TimeZone {
 public:
  // Throws Error(Usage) for a zone that does not exist ("Europe/Berln").
  static std::shared_ptr<const TimeZone> load(const std::string& name);
  virtual ~TimeZone() = default;
  virtual const std::string& name() const = 0;
  virtual int offset_at(int64_t utc) const = 0;  // seconds east of UTC at that instant
  // The first instant after `utc` at which the offset may change (nullopt: never). Cron uses it
  // to map local times to instants without scanning; a fixed-offset zone keeps the default.
  virtual std::optional<int64_t> next_transition(int64_t utc) const {
    (void)utc;
    return std::nullopt;
  }
};

// Cron semantics (docs/server.md, "Schedules"): fields minute hour day-of-month month
// day-of-week (0-7, Sunday 0 or 7), with *, lists, ranges, steps and names (jan, mon);
// @hourly @daily @weekly @monthly @yearly. Day-of-month and day-of-week both restricted: either
// matches (Vixie cron). In the zone's local time: a time skipped by a DST jump fires once at the
// first instant after the jump; a time that occurs twice fires once, at its first occurrence.
class CronSchedule {
 public:
  // Throws Error(Usage) naming the field and the problem ("hour: 24 is out of range 0-23").
  static CronSchedule parse(const std::string& expr, std::shared_ptr<const TimeZone> zone);
  // The first firing time strictly after `t` (unix seconds); nullopt if none within 5 years
  // ("0 0 30 2 *").
  std::optional<int64_t> next_after(int64_t t) const;

 private:
  struct Fields;
  std::shared_ptr<const Fields> fields_;
  std::shared_ptr<const TimeZone> zone_;
};

// A plan's schedule: cron, an interval (anchored at the unix epoch plus the plan's offset, so
// restarts keep the grid: "every 1h" fires at whole hours UTC, with offset 15m at hh:15), or
// continuous (never fires; supervised instead).
class Schedule {
 public:
  static Schedule compile(const ScheduleSpec& spec);   // throws Error(Usage); offset_auto must be resolved
  // The offset `offset: auto` gives a plan: stable for its name, spread evenly over [0, interval)
  // so that many plans on one interval do not all fire in the same second.
  static int64_t auto_offset(const std::string& plan_name, int64_t interval_s);
  std::optional<int64_t> next_after(int64_t t) const;  // continuous: nullopt
  // The newest firing time at or before `t`, no earlier than `not_before` (nullopt: none).
  std::optional<int64_t> last_at_or_before(int64_t t, int64_t not_before) const;
  // The usual gap between two firings (seconds): interval, or cron's smallest gap over a week.
  int64_t expected_interval_s() const;
  // How many firing times lie in [from, to] (cron: counted one by one, up to 1,000,000).
  int64_t count_between(int64_t from, int64_t to) const;
  bool continuous() const { return continuous_; }

 private:
  std::optional<CronSchedule> cron_;
  int64_t interval_s_ = 0;
  int64_t offset_s_ = 0;
  int64_t expected_s_ = 0;  // expected_interval_s(), computed once by compile()
  bool continuous_ = false;
};

// What to do about a plan when the server starts, reloads, or the plan is resumed.
struct ScheduleDecision {
  std::optional<int64_t> fire_now_for;  // create one job now for this scheduled time (catch-up)
  int64_t missed = 0;                   // scheduled times that passed without a job (counted, not run)
  int64_t next_due = 0;                 // 0: none
};

enum class PlanEvent {
  Start,    // server start: the plan's state was saved by an earlier run (`state.next_due`)
  Created,  // no saved state: a new plan
  Edited,   // its configuration hash changed
  Resumed,  // unpaused
};

// Catch-up: `none` skips every missed time (counted in `missed`); `one` fires one job for the
// newest missed time. Created/Edited never fire unless plan.run_on_create; Resumed and Start
// fire only with catch-up `one` and only for times missed while paused/down.
ScheduleDecision decide(const Schedule& schedule, const PlanConfig& plan, PlanEvent event, const PlanState& state,
                        int64_t now);

// A job created for `scheduled_at` may start until scheduled_at + start_window (0: unlimited);
// once running it must end by scheduled_at + completion_window (0: unlimited).
double start_deadline(const PlanConfig& plan, double scheduled_at);
double complete_deadline(const PlanConfig& plan, double scheduled_at);

}  // namespace arca::server
