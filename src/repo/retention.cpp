#include "repo/retention.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>

#include "util/error.h"

namespace arca {
namespace {

namespace ch = std::chrono;

constexpr int64_t kDaySeconds = 86400;

// Floor division: times before 1970 (reachable by subtracting spans) must still land on the
// right day.
int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if (a % b != 0 && (a < 0) != (b < 0)) --q;
  return q;
}

// The calendar fields of one instant, enough for every bucket kind.
struct Civil {
  int year = 0;
  unsigned month = 0, day = 0, hour = 0;
  int iso_year = 0;
  unsigned iso_week = 0;
  int64_t day_number = 0;  // days since 1970-01-01
};

Civil civil(int64_t t) {
  Civil c;
  c.day_number = floor_div(t, kDaySeconds);
  ch::sys_days day{ch::days{c.day_number}};
  ch::year_month_day ymd{day};
  c.year = int(ymd.year());
  c.month = unsigned(ymd.month());
  c.day = unsigned(ymd.day());
  c.hour = unsigned((t - c.day_number * kDaySeconds) / 3600);
  // ISO 8601: a week (Monday..Sunday) belongs to the year that holds its Thursday, so early
  // January can be in the previous year's week 52/53 and late December in week 1.
  int weekday = int(ch::weekday{day}.iso_encoding());  // 1 = Monday .. 7 = Sunday
  ch::sys_days thursday = day + ch::days{4 - weekday};
  ch::year iso_year = ch::year_month_day{thursday}.year();
  c.iso_year = int(iso_year);
  c.iso_week = unsigned((thursday - ch::sys_days{iso_year / ch::January / 1}).count() / 7 + 1);
  return c;
}

enum Unit { kHour, kDay, kWeek, kMonth, kYear };
constexpr const char* kCountRule[] = {"hourly", "daily", "weekly", "monthly", "yearly"};
constexpr const char* kWithinRule[] = {"within-hourly", "within-daily", "within-weekly", "within-monthly",
                                       "within-yearly"};

// Equal keys <=> same bucket; cheaper to compare than labels.
int64_t bucket_key(const Civil& c, Unit unit) {
  switch (unit) {
    case kHour:
      return c.day_number * 24 + c.hour;
    case kDay:
      return c.day_number;
    case kWeek:
      return int64_t(c.iso_year) * 100 + c.iso_week;
    case kMonth:
      return int64_t(c.year) * 12 + c.month;
    case kYear:
      return c.year;
  }
  return 0;
}

std::string bucket_label(const Civil& c, Unit unit) {
  char buf[64];
  switch (unit) {
    case kHour:
      std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02u", c.year, c.month, c.day, c.hour);
      break;
    case kDay:
      std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", c.year, c.month, c.day);
      break;
    case kWeek:
      std::snprintf(buf, sizeof buf, "%04d-W%02u", c.iso_year, c.iso_week);
      break;
    case kMonth:
      std::snprintf(buf, sizeof buf, "%04d-%02u", c.year, c.month);
      break;
    case kYear:
      std::snprintf(buf, sizeof buf, "%04d", c.year);
      break;
  }
  return buf;
}

// Canonical unit names, and the other spellings accepted. A bare "m" is refused: months to some,
// minutes to others (a 30-month compliance lock meant as 30 minutes cannot be undone).
constexpr int kUnitCount = 7;
constexpr const char* kUnits[kUnitCount] = {"y", "mo", "w", "d", "h", "min", "s"};
constexpr const char* kUnitWords[kUnitCount][3] = {
    {"year", "years", "yr"}, {"month", "months", "mon"},    {"week", "weeks", "wk"},     {"day", "days", ""},
    {"hour", "hours", "hr"}, {"minute", "minutes", "mins"}, {"sec", "second", "seconds"}};
// About 10000 years per unit: years/months stay inside std::chrono::year's range even together.
constexpr int64_t kUnitMax[kUnitCount] = {10000, 120000, 520000, 3650000, 87600000, 2000000000, 2000000000};

int* span_field(CalendarSpan& s, int unit) {
  int* fields[] = {&s.years, &s.months, &s.weeks, &s.days, &s.hours, &s.minutes, &s.seconds};
  return fields[unit];
}

int unit_of(const std::string& word) {
  for (int u = 0; u < kUnitCount; ++u) {
    if (word == kUnits[u]) return u;
    for (const char* w : kUnitWords[u])
      if (*w && word == w) return u;
  }
  return -1;
}

void check_count(const std::string& rule, int n) {
  if (n < -1) {
    throw Error(ErrorKind::Usage, "invalid retention count '" + rule + " " + std::to_string(n) +
                                      "': accepted are -1 (unlimited), 0 (off) or a positive number");
  }
}

std::string count_text(int n) { return n < 0 ? "unlimited" : std::to_string(n); }

}  // namespace

std::string CalendarSpan::str() const {
  const int values[] = {years, months, weeks, days, hours, minutes, seconds};
  std::string out;
  for (int u = 0; u < kUnitCount; ++u)
    if (values[u] != 0) out += std::to_string(values[u]) + kUnits[u];
  return out.empty() ? "0d" : out;
}

CalendarSpan parse_span(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return Error(ErrorKind::Usage,
                 "invalid time span '" + text + "': " + why +
                     "; expected positive numbers with units y (years), mo (months), w (weeks), d (days), "
                     "h (hours), min (minutes), s (seconds), each at most once and in that order, e.g. 30d, "
                     "1y6mo, 12h, 30min");
  };
  if (text.empty()) throw bad("it is empty");
  CalendarSpan span;
  size_t i = 0;
  int next_unit = 0;  // units must appear in increasing order
  while (i < text.size()) {
    size_t start = i;
    int64_t value = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i)
      value = std::min<int64_t>(value * 10 + (text[i] - '0'), int64_t(1) << 40);  // saturate, no overflow
    std::string number = text.substr(start, i - start);
    if (i == text.size()) throw bad("the number " + number + " has no unit");
    size_t word_start = i;
    for (; i < text.size() && text[i] >= 'a' && text[i] <= 'z'; ++i) {}
    std::string word = text.substr(word_start, i - word_start);
    if (word.empty()) throw bad("unexpected character '" + std::string(1, text[i]) + "'");
    if (word == "m")
      throw bad("'m' is ambiguous: write " + (number.empty() ? std::string("mo") : number + "mo") + " for months or " +
                (number.empty() ? std::string("min") : number + "min") + " for minutes");
    int unit = unit_of(word);
    if (number.empty())
      throw bad(unit >= 0 ? "unit '" + word + "' has no number before it" : "unexpected text '" + word + "'");
    if (unit < 0) throw bad("unknown unit '" + word + "'");
    if (unit < next_unit) throw bad("unit '" + word + "' is repeated or out of order");
    if (value == 0) throw bad("'" + number + word + "' is zero");
    if (value > kUnitMax[unit])
      throw bad("'" + number + word + "' is too large (at most " + std::to_string(kUnitMax[unit]) + kUnits[unit] + ")");
    *span_field(span, unit) = int(value);
    next_unit = unit + 1;
  }
  return span;
}

int64_t subtract_span(int64_t unix_seconds, const CalendarSpan& span) {
  int64_t day = floor_div(unix_seconds, kDaySeconds);
  int64_t time_of_day = unix_seconds - day * kDaySeconds;
  if (span.years != 0 || span.months != 0) {
    ch::year_month_day ymd{ch::sys_days{ch::days{day}}};
    // Month arithmetic by hand on a 64-bit month count, then check the year fits std::chrono.
    int64_t months =
        int64_t(int(ymd.year())) * 12 + (unsigned(ymd.month()) - 1) - (int64_t(span.years) * 12 + span.months);
    int64_t year = floor_div(months, 12);
    if (year < int(ch::year::min()) || year > int(ch::year::max()))
      throw Error(ErrorKind::Usage, "time span '" + span.str() + "' reaches outside the supported calendar");
    ch::year_month ym{ch::year{int(year)}, ch::month{unsigned(months - year * 12 + 1)}};
    ch::day month_end = ch::year_month_day_last{ym.year(), ch::month_day_last{ym.month()}}.day();
    ch::day clamped = std::min(ymd.day(), month_end);
    day = ch::sys_days{ym / clamped}.time_since_epoch().count();
  }
  return (day - (int64_t(span.weeks) * 7 + span.days)) * kDaySeconds + time_of_day - int64_t(span.hours) * 3600 -
         int64_t(span.minutes) * 60 - span.seconds;
}

bool RetentionPolicy::empty() const {
  return last == 0 && hourly == 0 && daily == 0 && weekly == 0 && monthly == 0 && yearly == 0 && !within &&
         !within_hourly && !within_daily && !within_weekly && !within_monthly && !within_yearly && tags.empty();
}

std::string RetentionPolicy::describe() const {
  std::vector<std::string> parts;
  if (last != 0) parts.push_back("last " + count_text(last));
  const int counts[] = {hourly, daily, weekly, monthly, yearly};
  for (int u = 0; u < 5; ++u)
    if (counts[u] != 0) parts.push_back(std::string(kCountRule[u]) + " " + count_text(counts[u]));
  if (within) parts.push_back("within " + within->str());
  const std::optional<CalendarSpan>* spans[] = {&within_hourly, &within_daily, &within_weekly, &within_monthly,
                                                &within_yearly};
  for (int u = 0; u < 5; ++u)
    if (*spans[u]) parts.push_back(std::string(kWithinRule[u]) + " " + (*spans[u])->str());
  if (!tags.empty()) {
    std::string list;
    for (const std::string& tag : tags) list += (list.empty() ? "" : ",") + tag;
    parts.push_back("tags " + list);
  }
  if (parts.empty()) return "no rules";
  std::string out;
  for (const std::string& part : parts) out += (out.empty() ? "" : ", ") + part;
  return out;
}

std::vector<RetentionDecision> apply_retention(const RetentionPolicy& policy, const std::vector<RetentionItem>& items) {
  const int counts[] = {policy.hourly, policy.daily, policy.weekly, policy.monthly, policy.yearly};
  check_count("last", policy.last);
  for (int u = 0; u < 5; ++u) check_count(kCountRule[u], counts[u]);

  std::vector<RetentionDecision> out(items.size());
  if (policy.empty() || items.empty()) return out;

  // Newest first; equal times by index so the result does not depend on the sort algorithm.
  std::vector<size_t> order(items.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return items[a].time != items[b].time ? items[a].time > items[b].time : a > b; });
  std::vector<Civil> cal(items.size());
  for (size_t i = 0; i < items.size(); ++i) cal[i] = civil(items[i].time);
  auto keep = [&](size_t i, std::string reason) { out[i].reasons.push_back(std::move(reason)); };

  if (policy.last != 0) {
    for (size_t k = 0; k < order.size() && (policy.last < 0 || k < size_t(policy.last)); ++k) keep(order[k], "last");
  }

  // Keeps the newest item of each bucket among `order[0..end)`, up to `limit` buckets (-1: all).
  auto keep_buckets = [&](Unit unit, int limit, size_t end, const std::string& prefix) {
    int counted = 0;
    std::optional<int64_t> previous;
    for (size_t k = 0; k < end && (limit < 0 || counted < limit); ++k) {
      int64_t key = bucket_key(cal[order[k]], unit);
      if (previous == key) continue;  // sorted by time, so a bucket's items are adjacent
      previous = key;
      ++counted;
      keep(order[k], prefix + bucket_label(cal[order[k]], unit));
    }
  };
  for (int u = 0; u < 5; ++u)
    if (counts[u] != 0) keep_buckets(Unit(u), counts[u], order.size(), std::string(kCountRule[u]) + " ");

  // Number of items (a prefix of `order`) at or after `span` before the newest item.
  int64_t newest = items[order[0]].time;
  auto count_within = [&](const CalendarSpan& span) {
    int64_t cutoff = subtract_span(newest, span);
    size_t n = 0;
    while (n < order.size() && items[order[n]].time >= cutoff) ++n;
    return n;
  };
  if (policy.within) {
    size_t n = count_within(*policy.within);
    for (size_t k = 0; k < n; ++k) keep(order[k], "within " + policy.within->str());
  }
  const std::optional<CalendarSpan>* spans[] = {&policy.within_hourly, &policy.within_daily, &policy.within_weekly,
                                                &policy.within_monthly, &policy.within_yearly};
  for (int u = 0; u < 5; ++u) {
    if (!*spans[u]) continue;
    const CalendarSpan& span = **spans[u];
    keep_buckets(Unit(u), -1, count_within(span), std::string(kWithinRule[u]) + " " + span.str() + ": ");
  }

  for (size_t i = 0; i < items.size(); ++i) {
    for (size_t t = 0; t < policy.tags.size(); ++t) {
      const std::string& tag = policy.tags[t];
      bool repeated = std::find(policy.tags.begin(), policy.tags.begin() + t, tag) != policy.tags.begin() + t;
      bool carried = std::find(items[i].tags.begin(), items[i].tags.end(), tag) != items[i].tags.end();
      if (carried && !repeated) keep(i, "tag " + tag);
    }
  }

  // Never leave a source without its latest snapshot.
  if (out[order[0]].reasons.empty()) keep(order[0], "newest");
  for (RetentionDecision& d : out) d.keep = !d.reasons.empty();
  return out;
}

}  // namespace arca
