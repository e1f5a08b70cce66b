// Schedules: time zones (TZif table and POSIX footer), cron against a brute-force reference, DST in
// both directions, intervals, and the scheduler's decisions for every event, catch-up and window.
// Expected instants were worked out by hand and checked with Python's zoneinfo.
#include <gtest/gtest.h>
#include <time.h>

#include <chrono>
#include <map>
#include <random>
#include <set>

#include "server/catalog.h"
#include "server/schedule.h"
#include "test_util.h"
#include "util/error.h"

using namespace arca;
using namespace arca::server;
using arca::testing::kind_of;

namespace {

int64_t utc(int y, int mo, int d, int h = 0, int mi = 0) {
  struct tm tm {};
  tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d, tm.tm_hour = h, tm.tm_min = mi;
  return timegm(&tm);
}

ScheduleSpec every(int64_t seconds) {
  ScheduleSpec s;
  s.interval_s = seconds;
  return s;
}

ScheduleSpec cron_spec(const std::string& expr, const std::string& zone = "UTC") {
  ScheduleSpec s;
  s.cron = expr, s.time_zone = zone;
  return s;
}

ScheduleSpec continuous() {
  ScheduleSpec s;
  s.continuous = true;
  return s;
}

CronSchedule cron(const std::string& expr, const std::string& zone = "UTC") {
  return CronSchedule::parse(expr, TimeZone::load(zone));
}

std::string usage_message(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error thrown";
  return "";
}

// ---- the brute-force reference -------------------------------------------------------------

// A random cron field and, independently, the set of values it stands for.
struct FieldSpec {
  int lo, hi;
  std::vector<std::string> names;
};

struct RandomField {
  std::string text;
  std::set<int> values;
};

RandomField random_field(std::mt19937_64& rng, const FieldSpec& f, int star_percent) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  auto word = [&](int v) {
    if (!f.names.empty() && v - f.lo < static_cast<int>(f.names.size()) && pick(0, 1) == 0) return f.names[v - f.lo];
    return std::to_string(v);
  };
  RandomField out;
  if (pick(1, 100) <= star_percent) {
    out.text = "*";
    for (int v = f.lo; v <= f.hi; ++v) out.values.insert(v);
    return out;
  }
  const int items = pick(1, 3);
  for (int k = 0; k < items; ++k) {
    if (k > 0) out.text += ",";
    const int a = pick(f.lo, f.hi), b = pick(a, f.hi), step = pick(1, 12);
    switch (pick(0, 3)) {
      case 0:
        out.text += word(a);
        out.values.insert(a);
        break;
      case 1:
        out.text += word(a) + "-" + word(b);
        for (int v = a; v <= b; ++v) out.values.insert(v);
        break;
      case 2:
        out.text += "*/" + std::to_string(step);
        for (int v = f.lo; v <= f.hi; v += step) out.values.insert(v);
        break;
      default:
        out.text += std::to_string(a) + "-" + std::to_string(b) + "/" + std::to_string(step);
        for (int v = a; v <= b; v += step) out.values.insert(v);
    }
  }
  return out;
}

struct RandomCron {
  std::string expr;
  std::set<int> minute, hour, dom, month, dow;
  bool dom_star = false, dow_star = false;

  // Does this local wall-clock minute (seconds since 1970 as if UTC) match? Vixie's rule: with
  // both day fields restricted, either one.
  bool matches(int64_t local) const {
    const time_t t = static_cast<time_t>(local);
    struct tm tm {};
    gmtime_r(&t, &tm);
    const bool dm = dom.count(tm.tm_mday) > 0, wm = dow.count(tm.tm_wday) > 0;
    const bool day = dom_star || dow_star ? dm && wm : dm || wm;
    return minute.count(tm.tm_min) && hour.count(tm.tm_hour) && month.count(tm.tm_mon + 1) && day;
  }
};

RandomCron random_cron(std::mt19937_64& rng) {
  static const FieldSpec kMinute{0, 59, {}}, kHour{0, 23, {}}, kDom{1, 31, {}},
      kMonth{1, 12, {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}},
      kDow{0, 7, {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}};
  RandomCron c;
  const auto mi = random_field(rng, kMinute, 30), h = random_field(rng, kHour, 40), dm = random_field(rng, kDom, 70),
             mo = random_field(rng, kMonth, 80), dw = random_field(rng, kDow, 70);
  c.expr = mi.text + " " + h.text + " " + dm.text + " " + mo.text + " " + dw.text;
  c.minute = mi.values, c.hour = h.values, c.dom = dm.values, c.month = mo.values;
  for (int v : dw.values) c.dow.insert(v % 7);  // 7 is Sunday
  c.dom_star = dm.text == "*", c.dow_star = dw.text == "*";
  return c;
}

// The first instant in (t, t + range] at which `c` fires, by walking every UTC minute: an instant
// fires when the wall clock newly reaches a matching minute — the minute it shows, or any minute
// a DST jump just skipped; a wall-clock minute shown before (a repeated hour) never fires again.
// Zones since 2000 have whole-minute offsets and transitions, and repeat at most an hour.
std::optional<int64_t> reference_next(const RandomCron& c, const TimeZone& z, int64_t t, int64_t range) {
  const int64_t first = (t / 60) * 60 + 60;
  auto local = [&](int64_t u) { return u + z.offset_at(u); };
  int64_t seen = INT64_MIN;  // the latest wall-clock minute shown so far
  for (int64_t u = first - 3 * 3600; u < first; u += 60) seen = std::max(seen, local(u));
  for (int64_t u = first; u <= t + range; u += 60) {
    const int64_t now = local(u);
    for (int64_t m = std::max(seen + 60, now - 3 * 3600); m <= now; m += 60)
      if (c.matches(m)) return u;
    seen = std::max(seen, now);
  }
  return std::nullopt;
}

}  // namespace

// ---- time zones ----------------------------------------------------------------------------

TEST(ServerSchedule, ZoneOffsetsFromTransitionTable) {
  const auto berlin = TimeZone::load("Europe/Berlin");
  EXPECT_EQ(berlin->name(), "Europe/Berlin");
  EXPECT_EQ(berlin->offset_at(utc(2024, 1, 15)), 3600);
  EXPECT_EQ(berlin->offset_at(utc(2024, 7, 15)), 7200);
  EXPECT_EQ(berlin->offset_at(utc(2024, 3, 31, 1) - 1), 3600);  // CET until 01:00 UTC on the last Sunday
  EXPECT_EQ(berlin->offset_at(utc(2024, 3, 31, 1)), 7200);
  EXPECT_EQ(berlin->next_transition(utc(2024, 3, 1)), utc(2024, 3, 31, 1));
  const auto ny = TimeZone::load("America/New_York");
  EXPECT_EQ(ny->offset_at(utc(2024, 1, 15)), -5 * 3600);
  EXPECT_EQ(ny->offset_at(utc(2024, 7, 15)), -4 * 3600);
  EXPECT_EQ(TimeZone::load("Asia/Kolkata")->offset_at(utc(2024, 7, 15)), 19800);
  EXPECT_EQ(TimeZone::load("UTC")->offset_at(utc(2024, 7, 15)), 0);
  const auto lord_howe = TimeZone::load("Australia/Lord_Howe");  // +10:30, DST +11
  EXPECT_EQ(lord_howe->offset_at(1728142200 - 1), 37800);
  EXPECT_EQ(lord_howe->offset_at(1728142200), 39600);
  EXPECT_EQ(TimeZone::load("Europe/Berlin").get(), berlin.get()) << "loaded zones are cached";
}

TEST(ServerSchedule, ZoneFarPast2037FollowsThePosixFooter) {
  const auto berlin = TimeZone::load("Europe/Berlin");
  // 2100: DST from 2100-03-28 01:00 UTC to 2100-10-31 01:00 UTC (last Sundays of March and October).
  EXPECT_EQ(berlin->offset_at(4109878800 - 1), 3600);
  EXPECT_EQ(berlin->offset_at(4109878800), 7200);
  EXPECT_EQ(berlin->offset_at(4128627600 - 1), 7200);
  EXPECT_EQ(berlin->offset_at(4128627600), 3600);
  EXPECT_EQ(berlin->next_transition(utc(2100, 1, 1)), 4109878800);
  EXPECT_EQ(berlin->offset_at(7265725200 - 1), 3600);  // 2200-03-30 01:00 UTC
  EXPECT_EQ(berlin->offset_at(7265725200), 7200);
  // Southern hemisphere, where DST spans the new year: Sydney in January 2090 is on +11.
  const auto sydney = TimeZone::load("Australia/Sydney");
  EXPECT_EQ(sydney->offset_at(utc(2090, 1, 15)), 11 * 3600);
  EXPECT_EQ(sydney->offset_at(utc(2090, 7, 15)), 10 * 3600);
  // A zone without DST: the footer is a fixed offset.
  EXPECT_EQ(TimeZone::load("Asia/Tokyo")->offset_at(utc(2090, 7, 15)), 9 * 3600);
  EXPECT_EQ(cron("30 2 * * *", "Europe/Berlin").next_after(4109878800 - 3600), 4109878800)
      << "02:30 on the 2100 spring-forward day fires at the jump";
}

TEST(ServerSchedule, ZoneLoadRejectsUnknownNamesAndNonZoneFiles) {
  for (const std::string name :
       {"Europe/Berln", "../etc/passwd", "Europe/../UTC", "/etc/localtime", "", "Europe", "zone1970.tab"}) {
    const std::string msg = usage_message([&] { TimeZone::load(name); });
    EXPECT_NE(msg.find("'" + name + "'"), std::string::npos) << msg;
  }
}

// ---- cron ----------------------------------------------------------------------------------

TEST(ServerSchedule, CronMatchesBruteForceReference) {
  std::mt19937_64 rng(20);
  const char* zones[] = {"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"};
  constexpr int64_t kRange = 36 * 3600;
  int fired = 0;
  for (int i = 0; i < 240; ++i) {
    const RandomCron c = random_cron(rng);
    const auto zone = TimeZone::load(zones[i % 5]);
    const CronSchedule s = CronSchedule::parse(c.expr, zone);
    int64_t t = std::uniform_int_distribution<int64_t>(utc(2000, 1, 1), utc(2045, 12, 31))(rng);
    if (i % 2 == 0) {  // half of the starts land just before a DST change
      if (auto change = zone->next_transition(t)) t = *change - std::uniform_int_distribution<int64_t>(0, 7200)(rng);
    }
    const auto got = s.next_after(t);
    const auto want = reference_next(c, *zone, t, kRange);
    SCOPED_TRACE(c.expr + " in " + zone->name() + " after " + std::to_string(t));
    if (want) {
      ++fired;
      EXPECT_EQ(got, want);
    } else if (got) {
      EXPECT_GT(*got, t + kRange) << "the reference found no firing in range";
    }
    if (got) {
      EXPECT_GT(*got, t);
    }
  }
  EXPECT_GT(fired, 60) << "the random expressions must fire often enough to test something";
}

TEST(ServerSchedule, CronBerlinSpringForwardSkippedTimeFiresAtTheJump) {
  const auto daily = cron("30 2 * * *", "Europe/Berlin");
  EXPECT_EQ(daily.next_after(utc(2024, 3, 30, 12)), utc(2024, 3, 31, 1));  // 03:00 CEST, the jump
  EXPECT_EQ(daily.next_after(utc(2024, 3, 31, 1)), utc(2024, 4, 1, 0, 30));
  // 02:00, 02:15, 02:30, 02:45 and 03:00 local all fire as one job, at the jump.
  const auto quarter = cron("*/15 * * * *", "Europe/Berlin");
  EXPECT_EQ(quarter.next_after(utc(2024, 3, 31, 0, 50)), utc(2024, 3, 31, 1));
  EXPECT_EQ(quarter.next_after(utc(2024, 3, 31, 1)), utc(2024, 3, 31, 1, 15));
}

TEST(ServerSchedule, CronBerlinFallBackRepeatedTimeFiresOnceAtItsFirstOccurrence) {
  const auto daily = cron("30 2 * * *", "Europe/Berlin");
  EXPECT_EQ(daily.next_after(utc(2024, 10, 26, 12)), utc(2024, 10, 27, 0, 30));  // 02:30 CEST
  EXPECT_EQ(daily.next_after(utc(2024, 10, 27, 0, 30)), utc(2024, 10, 28, 1, 30));
  // Every quarter hour and every minute: the repeated 02:00-02:59 (CET) fires nothing.
  const auto quarter = cron("*/15 * * * *", "Europe/Berlin");
  EXPECT_EQ(quarter.next_after(utc(2024, 10, 27, 0, 40)), utc(2024, 10, 27, 0, 45));
  EXPECT_EQ(quarter.next_after(utc(2024, 10, 27, 0, 45)), utc(2024, 10, 27, 2));  // 03:00 CET
  EXPECT_EQ(quarter.next_after(utc(2024, 10, 27, 1, 10)), utc(2024, 10, 27, 2));  // from 02:10 CET
  const auto minutely = cron("* * * * *", "Europe/Berlin");
  EXPECT_EQ(minutely.next_after(utc(2024, 10, 27, 0, 59)), utc(2024, 10, 27, 2));
}

TEST(ServerSchedule, CronNewYorkSpringForwardAndFallBack) {
  EXPECT_EQ(cron("30 2 * * *", "America/New_York").next_after(utc(2024, 3, 9, 12)), utc(2024, 3, 10, 7));
  EXPECT_EQ(cron("30 2 * * *", "America/New_York").next_after(utc(2024, 3, 10, 7)), utc(2024, 3, 11, 6, 30));
  const auto fall = cron("30 1 * * *", "America/New_York");
  EXPECT_EQ(fall.next_after(utc(2024, 11, 2, 12)), utc(2024, 11, 3, 5, 30));  // 01:30 EDT
  EXPECT_EQ(fall.next_after(utc(2024, 11, 3, 5, 30)), utc(2024, 11, 4, 6, 30)) << "not 01:30 EST on the 3rd";
}

TEST(ServerSchedule, CronLordHoweHalfHourDst) {
  // 2024-10-06 02:00 (+10:30) jumps to 02:30 (+11) at 15:30 UTC the day before.
  EXPECT_EQ(cron("15 2 * * *", "Australia/Lord_Howe").next_after(utc(2024, 10, 5)), 1728142200);
  // 2024-04-07 02:00 (+11) falls back to 01:30 (+10:30) at 15:00 UTC: 01:45 fires once, on +11.
  const auto fall = cron("45 1 * * *", "Australia/Lord_Howe");
  EXPECT_EQ(fall.next_after(utc(2024, 4, 6)), utc(2024, 4, 6, 14, 45));
  EXPECT_EQ(fall.next_after(utc(2024, 4, 6, 14, 45)), utc(2024, 4, 7, 15, 15));
}

TEST(ServerSchedule, CronSyntaxNamesRangesStepsAndMacros) {
  const int64_t t = utc(2024, 5, 15, 10, 7);  // a Wednesday
  EXPECT_EQ(cron("*/15 * * * *").next_after(t), utc(2024, 5, 15, 10, 15));
  EXPECT_EQ(cron("1-10/4 * * * *").next_after(utc(2024, 5, 15, 10, 5)), utc(2024, 5, 15, 10, 9));
  EXPECT_EQ(cron("5/20 * * * *").next_after(utc(2024, 5, 15, 10, 26)), utc(2024, 5, 15, 10, 45));
  EXPECT_EQ(cron("0 9 * JAN-Mar mon-fri").next_after(t), utc(2025, 1, 1, 9));  // 2025-01-01 is a Wednesday
  EXPECT_EQ(cron("0 0 * * 7").next_after(t), utc(2024, 5, 19));                // Sunday as 7 ...
  EXPECT_EQ(cron("0 0 * * sun").next_after(t), utc(2024, 5, 19));
  EXPECT_EQ(cron("0 0 * * 5-7").next_after(utc(2024, 5, 18, 1)), utc(2024, 5, 19));  // ... also in a range
  // Vixie: both day fields restricted, either matches; one of them "*", both must.
  EXPECT_EQ(cron("0 0 13 * fri").next_after(t), utc(2024, 5, 17));                    // a Friday, not the 13th
  EXPECT_EQ(cron("0 0 13 * fri").next_after(utc(2024, 6, 12, 1)), utc(2024, 6, 13));  // the 13th, a Thursday
  EXPECT_EQ(cron("0 0 13 * *").next_after(t), utc(2024, 6, 13));
  EXPECT_EQ(cron("0 0 */10 * fri").next_after(utc(2024, 5, 16)), utc(2024, 5, 17)) << "*/10 is restricted";
  // Macros are their five-field equivalents.
  const std::pair<const char*, const char*> macros[] = {
      {"@hourly", "0 * * * *"},  {"@daily", "0 0 * * *"},  {"@midnight", "0 0 * * *"}, {"@weekly", "0 0 * * 0"},
      {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}};
  for (const auto& [macro, fields] : macros) {
    int64_t a = t, b = t;
    for (int k = 0; k < 3; ++k) {
      a = *cron(macro).next_after(a), b = *cron(fields).next_after(b);
      EXPECT_EQ(a, b) << macro;
    }
  }
  EXPECT_EQ(cron("0 0 29 2 *").next_after(utc(2025, 1, 1)), utc(2028, 2, 29));
  EXPECT_EQ(cron("0 0 30 2 *").next_after(t), std::nullopt) << "never: no time within 5 years";
}

TEST(ServerSchedule, CronErrorsNameTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {"0 24 * * *", "hour: 24 is out of range 0-23"},
      {"60 * * * *", "minute: 60 is out of range 0-59"},
      {"0 0 0 * *", "day-of-month: 0 is out of range 1-31"},
      {"0 0 * 13 *", "month: 13 is out of range 1-12"},
      {"0 0 * * 8", "day-of-week: 8 is out of range 0-7"},
      {"*/0 * * * *", "minute: step 0 is not allowed"},
      {"*/x * * * *", "minute: step 'x' is not a number"},
      {"0 0 * foo *", "month: 'foo' is not a number or a name"},
      {"0 x * * *", "hour: 'x' is not a number"},
      {"0 0 * * fri-mon", "day-of-week: range fri-mon goes backwards"},
      {"0 22-2 * * *", "hour: range 22-2 goes backwards; write it as two ranges (22-23,0-2)"},
      {"1,,2 * * * *", "minute: empty list element"},
      {"0 0 * *", "cron: '0 0 * *' has 4 fields; expected 5"},
      {"", "has 0 fields"},
      {"@reboot", "cron: unknown '@reboot'"},
  };
  for (const auto& c : cases) {
    const char* expr = c.first;  // not a structured binding: clang 14 cannot capture one in a lambda
    const char* want = c.second;
    const std::string msg = usage_message([&] { cron(expr); });
    EXPECT_NE(msg.find(want), std::string::npos) << expr << " -> " << msg;
  }
}

TEST(ServerSchedule, CronNextAfterIsCheapFor1000Plans) {
  const char* exprs[] = {"* * * * *", "*/15 * * * *", "0 2 * * *", "0 2 * * 0", "0 0 1 * *", "30 4 29 2 *"};
  const char* zones[] = {"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"};
  std::vector<CronSchedule> plans;
  for (int i = 0; i < 1000; ++i) plans.push_back(cron(exprs[i % 6], zones[i % 4]));
  const auto begin = std::chrono::steady_clock::now();
  int64_t t = utc(2037, 10, 20);  // near the end of the table and across a DST change
  for (const auto& p : plans) EXPECT_GT(p.next_after(t).value_or(t + 1), t);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  EXPECT_LT(seconds, 0.25) << "1,000 next_after calls took " << seconds << " s";
}

// ---- schedules -----------------------------------------------------------------------------

TEST(ServerSchedule, IntervalIsAnchoredAtTheEpoch) {
  const auto hourly = Schedule::compile([] {
    auto s = every(3600);
    s.time_zone = "Europe/Berlin";
    return s;
  }());
  EXPECT_EQ(hourly.next_after(utc(2024, 5, 5, 10, 17)), utc(2024, 5, 5, 11));
  EXPECT_EQ(hourly.next_after(utc(2024, 5, 5, 11)), utc(2024, 5, 5, 12));
  EXPECT_EQ(hourly.last_at_or_before(utc(2024, 5, 5, 10, 17), 0), utc(2024, 5, 5, 10));
  EXPECT_EQ(hourly.last_at_or_before(utc(2024, 5, 5, 10), 0), utc(2024, 5, 5, 10));
  EXPECT_EQ(hourly.last_at_or_before(utc(2024, 5, 5, 10, 17), utc(2024, 5, 5, 10, 1)), std::nullopt);
  EXPECT_EQ(hourly.count_between(utc(2024, 5, 5, 9), utc(2024, 5, 5, 12, 30)), 4);
  EXPECT_EQ(hourly.expected_interval_s(), 3600);
  const auto ninety = Schedule::compile(every(5400));
  EXPECT_EQ(ninety.next_after(utc(2024, 5, 5, 0, 10)), utc(2024, 5, 5, 1, 30));  // 2024-05-05 00:00 is 5400·k
  EXPECT_FALSE(ninety.continuous());
}

TEST(ServerSchedule, IntervalOffsetShiftsTheGrid) {
  auto spec = every(3600);
  spec.offset_s = 15 * 60;
  const auto at15 = Schedule::compile(spec);
  EXPECT_EQ(at15.next_after(utc(2024, 5, 5, 10, 0)), utc(2024, 5, 5, 10, 15));
  EXPECT_EQ(at15.next_after(utc(2024, 5, 5, 10, 15)), utc(2024, 5, 5, 11, 15));
  EXPECT_EQ(at15.last_at_or_before(utc(2024, 5, 5, 10, 14), 0), utc(2024, 5, 5, 9, 15));
  EXPECT_EQ(at15.last_at_or_before(utc(2024, 5, 5, 10, 15), 0), utc(2024, 5, 5, 10, 15));
  EXPECT_EQ(at15.count_between(utc(2024, 5, 5, 9, 20), utc(2024, 5, 5, 12, 15)), 3);  // 10:15 11:15 12:15
  EXPECT_EQ(at15.expected_interval_s(), 3600);
  spec.offset_s = 3600;
  EXPECT_THROW(Schedule::compile(spec), Error) << "an offset of a whole interval is no offset";

  // auto: stable per name, inside the interval, and 1,000 one-minute plans spread over the minute.
  EXPECT_EQ(Schedule::auto_offset("pg-base", 60), Schedule::auto_offset("pg-base", 60));
  std::set<int64_t> seconds;
  int most_in_one_second = 0;
  std::map<int64_t, int> per_second;
  for (int i = 0; i < 1000; ++i) {
    int64_t o = Schedule::auto_offset("p" + std::to_string(i), 60);
    ASSERT_GE(o, 0);
    ASSERT_LT(o, 60);
    seconds.insert(o);
    most_in_one_second = std::max(most_in_one_second, ++per_second[o]);
  }
  EXPECT_EQ(seconds.size(), 60u);
  EXPECT_LT(most_in_one_second, 35) << "1,000 plans over 60 seconds: ~17 a second, not a burst";
}

TEST(ServerSchedule, CronScheduleLooksBackAndCounts) {
  const auto daily = Schedule::compile(cron_spec("0 2 * * *", "Europe/Berlin"));
  EXPECT_EQ(daily.last_at_or_before(utc(2024, 5, 4, 23, 30), 0), utc(2024, 5, 4, 0));  // 02:00 CEST
  EXPECT_EQ(daily.last_at_or_before(utc(2024, 5, 4, 0), 0), utc(2024, 5, 4, 0));
  EXPECT_EQ(daily.last_at_or_before(utc(2024, 5, 4, 23, 30), utc(2024, 5, 4, 1)), std::nullopt);
  EXPECT_EQ(daily.count_between(utc(2024, 5, 1), utc(2024, 5, 10, 23)), 10);
  EXPECT_EQ(daily.expected_interval_s(), 86400);
  const auto leap = Schedule::compile(cron_spec("0 0 29 2 *"));
  EXPECT_EQ(leap.last_at_or_before(utc(2031, 1, 1), 0), utc(2028, 2, 29)) << "years back";
  EXPECT_EQ(Schedule::compile(cron_spec("*/15 * * * *")).expected_interval_s(), 900);
  EXPECT_EQ(Schedule::compile(cron_spec("0 1,3 * * *")).expected_interval_s(), 7200);
  EXPECT_EQ(Schedule::compile(cron_spec("0 2 * * 0")).expected_interval_s(), 7 * 86400);
  const int64_t monthly = Schedule::compile(cron_spec("0 0 1 * *")).expected_interval_s();
  EXPECT_GE(monthly, 28 * 86400);
  EXPECT_LE(monthly, 31 * 86400);
}

TEST(ServerSchedule, CompileRejectsIncompleteOrContradictorySpecs) {
  EXPECT_NE(usage_message([] {
              Schedule::compile([] {
                auto s = cron_spec("0 2 * * *");
                s.interval_s = 60;
                return s;
              }());
            }).find("either cron or interval"),
            std::string::npos);
  EXPECT_NE(usage_message([] { Schedule::compile(ScheduleSpec{}); }).find("needs a cron"), std::string::npos);
  EXPECT_NE(usage_message([] {
              Schedule::compile([] {
                auto s = continuous();
                s.cron = "* * * * *";
                return s;
              }());
            }).find("continuous"),
            std::string::npos);
  EXPECT_NE(usage_message([] { Schedule::compile(every(-5)); }).find("positive"), std::string::npos);
  EXPECT_EQ(kind_of([] { Schedule::compile(cron_spec("0 2 * * *", "Mars/Olympus")); }), ErrorKind::Usage);
  const auto stream = Schedule::compile(continuous());
  EXPECT_TRUE(stream.continuous());
  EXPECT_EQ(stream.next_after(utc(2024, 1, 1)), std::nullopt);
}

// ---- decisions -----------------------------------------------------------------------------

namespace {

const int64_t kNow = utc(2024, 5, 10, 12, 30);
const int64_t kHour = 3600;

PlanConfig plan_with(CatchUp catch_up, int64_t window, bool run_on_create = false) {
  PlanConfig p;
  p.name = "nightly";
  p.catch_up = catch_up;
  p.start_window_s = window;
  p.run_on_create = run_on_create;
  return p;
}

PlanState state_with(double next_due, double last_scheduled = 0, bool paused = false) {
  PlanState s;
  s.plan = "nightly";
  s.next_due = next_due, s.last_scheduled = last_scheduled, s.paused = paused;
  return s;
}

}  // namespace

TEST(ServerSchedule, DecideStartAndResumeCatchUpOnlyInsideTheWindow) {
  const auto hourly = Schedule::compile(every(kHour));
  const int64_t nine = utc(2024, 5, 10, 9), noon = utc(2024, 5, 10, 12), one = utc(2024, 5, 10, 13);
  // Down (Start) or paused (Resumed) since before 09:00: 09, 10, 11 and 12 passed without a job.
  // Resumed finds the first one from the newest scheduled job, as a pause saves no next time.
  const std::pair<PlanEvent, PlanState> gaps[] = {{PlanEvent::Start, state_with(nine)},
                                                  {PlanEvent::Resumed, state_with(0, utc(2024, 5, 10, 8))},
                                                  {PlanEvent::Resumed, state_with(0, utc(2024, 5, 10, 8), true)}};
  struct Case {
    CatchUp catch_up;
    int64_t window;
    std::optional<int64_t> fire;
    int64_t missed;
  };
  const Case
      cases[] =
          {
              {CatchUp::None, 0, std::nullopt, 4},
              {CatchUp::None, kHour, std::nullopt, 4},
              {CatchUp::One, 0, noon, 3},
              {CatchUp::One, kHour, noon, 3},
              {CatchUp::One, 30 * 60, noon, 3},          // 12:00 + 30 min is now: still inside
              {CatchUp::One, 10 * 60, std::nullopt, 4},  // 12:10 has passed: counted, not fired
          };
  for (const auto& [event, state] : gaps) {
    for (const auto& c : cases) {
      SCOPED_TRACE("event " + std::to_string(static_cast<int>(event)) + " catch-up " +
                   std::to_string(static_cast<int>(c.catch_up)) + " window " + std::to_string(c.window));
      const auto d = decide(hourly, plan_with(c.catch_up, c.window), event, state, kNow);
      EXPECT_EQ(d.fire_now_for, c.fire);
      EXPECT_EQ(d.missed, c.missed);
      EXPECT_EQ(d.next_due, one);
    }
  }
  // Nothing passed: the saved time is still ahead, or the plan never had one.
  for (auto event : {PlanEvent::Start, PlanEvent::Resumed}) {
    for (const auto& state : {state_with(one), state_with(0)}) {
      const auto d = decide(hourly, plan_with(CatchUp::One, 0), event, state, kNow);
      EXPECT_EQ(d.fire_now_for, std::nullopt);
      EXPECT_EQ(d.missed, 0);
      EXPECT_EQ(d.next_due, one);
    }
  }
  // A paused plan at server start: no job, no next time.
  const auto paused = decide(hourly, plan_with(CatchUp::One, 0), PlanEvent::Start, state_with(nine, 0, true), kNow);
  EXPECT_EQ(paused.fire_now_for, std::nullopt);
  EXPECT_EQ(paused.missed, 0);
  EXPECT_EQ(paused.next_due, 0);
}

TEST(ServerSchedule, DecideCreatedAndEditedNeverFireUnlessRunOnCreate) {
  const auto daily = Schedule::compile(cron_spec("0 2 * * *"));
  const int64_t tomorrow = utc(2024, 5, 11, 2);
  for (auto event : {PlanEvent::Created, PlanEvent::Edited}) {
    for (auto catch_up : {CatchUp::None, CatchUp::One}) {
      for (int64_t window : {int64_t{0}, kHour}) {
        // Even with a saved time long past (an edit), nothing is caught up.
        const auto d = decide(daily, plan_with(catch_up, window), event, state_with(utc(2024, 5, 1, 2)), kNow);
        EXPECT_EQ(d.fire_now_for, std::nullopt);
        EXPECT_EQ(d.missed, 0);
        EXPECT_EQ(d.next_due, tomorrow);
        const auto now = decide(daily, plan_with(catch_up, window, true), event, state_with(0), kNow);
        EXPECT_EQ(now.fire_now_for, kNow) << "run_on_create fires one job at once";
        EXPECT_EQ(now.next_due, tomorrow);
        const auto paused = decide(daily, plan_with(catch_up, window, true), event, state_with(0, 0, true), kNow);
        EXPECT_EQ(paused.fire_now_for, std::nullopt) << "a plan created paused does not run";
        EXPECT_EQ(paused.next_due, 0);
      }
    }
  }
}

TEST(ServerSchedule, DecideContinuousPlansHaveNoTimes) {
  const auto stream = Schedule::compile(continuous());
  for (auto event : {PlanEvent::Start, PlanEvent::Created, PlanEvent::Edited, PlanEvent::Resumed}) {
    const auto d = decide(stream, plan_with(CatchUp::One, 0, true), event, state_with(utc(2024, 5, 1)), kNow);
    EXPECT_EQ(d.fire_now_for, std::nullopt);
    EXPECT_EQ(d.missed, 0);
    EXPECT_EQ(d.next_due, 0);
  }
}

TEST(ServerSchedule, DeadlinesFromWindows) {
  PlanConfig p;
  p.start_window_s = 3600, p.completion_window_s = 7200;
  EXPECT_DOUBLE_EQ(start_deadline(p, 1000.5), 4600.5);
  EXPECT_DOUBLE_EQ(complete_deadline(p, 1000.5), 8200.5);
  p.start_window_s = 0, p.completion_window_s = 0;
  EXPECT_EQ(start_deadline(p, 1000.5), 0) << "0: unlimited";
  EXPECT_EQ(complete_deadline(p, 1000.5), 0);
}
