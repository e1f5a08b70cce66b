// CronSchedule: parsing 5-field expressions and finding the next firing. The search walks local
// (wall-clock) time field by field — a wrong month skips to the next month, a wrong day to the
// next day, a wrong hour to the next hour — so a firing a year away costs a few hundred steps, not
// half a million. Each local candidate then becomes an instant: its first occurrence, or for a
// time skipped by a DST jump, the instant of the jump.
#include <algorithm>
#include <bit>
#include <cctype>
#include <vector>

#include "server/civil_time.h"
#include "server/schedule.h"
#include "util/error.h"

namespace arca::server {

struct CronSchedule::Fields {
  uint64_t minute = 0;  // bit n: minute n matches
  uint64_t hour = 0;
  uint64_t dom = 0;                       // bits 1-31
  uint64_t month = 0;                     // bits 1-12
  uint64_t dow = 0;                       // bits 0-6, Sunday 0
  bool dom_any = false, dow_any = false;  // written as a bare "*"

  bool day_matches(int day_of_month, int day_of_week) const {
    const bool dm = (dom >> day_of_month) & 1, wm = (dow >> day_of_week) & 1;
    if (dom_any || dow_any) return dm && wm;
    return dm || wm;  // both restricted: either one (Vixie cron)
  }
};

namespace {

struct FieldSpec {
  const char* name;
  int lo, hi;
  const char* const* names;  // lower-case names for lo, lo+1, ... (nullptr: numbers only)
};

constexpr const char* kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr const char* kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
constexpr FieldSpec kSpecs[] = {{"minute", 0, 59, nullptr},
                                {"hour", 0, 23, nullptr},
                                {"day-of-month", 1, 31, nullptr},
                                {"month", 1, 12, kMonths},
                                {"day-of-week", 0, 7, kDays}};

[[noreturn]] void bad(const FieldSpec& f, const std::string& what) {
  throw Error(ErrorKind::Usage, std::string(f.name) + ": " + what);
}

std::string range_text(const FieldSpec& f) { return std::to_string(f.lo) + "-" + std::to_string(f.hi); }

int value(const FieldSpec& f, const std::string& s) {
  if (s.empty()) bad(f, "a value is missing");
  if (std::all_of(s.begin(), s.end(), [](unsigned char ch) { return std::isdigit(ch); })) {
    const int v = s.size() > 4 ? 100000 : std::stoi(s);
    if (v < f.lo || v > f.hi) bad(f, s + " is out of range " + range_text(f));
    return v;
  }
  if (f.names != nullptr) {
    std::string lower(s);
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const int count = f.hi - f.lo + 1 - (f.names == kDays ? 1 : 0);  // 7 has no name of its own
    for (int k = 0; k < count; ++k)
      if (lower == f.names[k]) return f.lo + k;
    bad(f, "'" + s + "' is not a number or a name (" + f.names[0] + ", " + f.names[1] + ", ...)");
  }
  bad(f, "'" + s + "' is not a number");
}

// One comma-separated field as a bit mask over f.lo..f.hi.
uint64_t parse_field(const FieldSpec& f, const std::string& text) {
  uint64_t mask = 0;
  size_t start = 0;
  while (true) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, comma - start);
    if (item.empty()) bad(f, "empty list element in '" + text + "'");
    const size_t slash = item.find('/');
    const std::string base = item.substr(0, slash);
    int lo = f.lo, hi = f.hi, step = 1;
    if (base != "*") {
      const size_t dash = base.find('-');
      lo = value(f, base.substr(0, dash));
      hi = dash == std::string::npos ? (slash == std::string::npos ? lo : f.hi) : value(f, base.substr(dash + 1));
      if (hi < lo)
        bad(f, "range " + base + " goes backwards; write it as two ranges (" + base.substr(0, dash) + "-" +
                   std::to_string(f.hi) + "," + std::to_string(f.lo) + "-" + base.substr(dash + 1) + ")");
    }
    if (slash != std::string::npos) {
      const std::string s = item.substr(slash + 1);
      if (s.empty() || s.size() > 4 ||
          !std::all_of(s.begin(), s.end(), [](unsigned char ch) { return std::isdigit(ch); }))
        bad(f, "step '" + s + "' is not a number");
      step = std::stoi(s);
      if (step == 0) bad(f, "step 0 is not allowed");
    }
    for (int v = lo; v <= hi; v += step) mask |= uint64_t{1} << v;
    if (comma == text.size()) return mask;
    start = comma + 1;
  }
}

std::string expand_macro(const std::string& expr) {
  static const std::pair<const char*, const char*> kMacros[] = {
      {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"}, {"@weekly", "0 0 * * 0"},
      {"@daily", "0 0 * * *"},  {"@midnight", "0 0 * * *"}, {"@hourly", "0 * * * *"}};
  std::string lower(expr);
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const auto& [name, fields] : kMacros)
    if (lower == name) return fields;
  throw Error(ErrorKind::Usage,
              "cron: unknown '" + expr + "' (use @hourly, @daily, @midnight, @weekly, @monthly, @yearly or @annually)");
}

// The first bit at or above `from` in `mask`, or -1.
int next_bit(uint64_t mask, int from) {
  if (from > 63) return -1;
  const uint64_t rest = mask & (~uint64_t{0} << from);
  return rest == 0 ? -1 : std::countr_zero(rest);
}

// The first instant whose wall clock reads `local` or later: the first occurrence of `local`, or
// the instant of the jump when a DST change skips it.
int64_t first_instant_at_or_after(const TimeZone& zone, int64_t local) {
  // Offsets stay within ±26 h (RFC 8536), so every instant before this one reads earlier.
  int64_t u = local - 2 * civil::kDay;
  for (int guard = 0; guard < 1000; ++guard) {
    const int64_t candidate = std::max(u, local - zone.offset_at(u));
    const auto change = zone.next_transition(u);
    if (!change || candidate < *change) return candidate;
    u = *change;
  }
  throw Error(ErrorKind::Corrupt, "time zone " + zone.name() + ": too many transitions around one local time");
}

}  // namespace

CronSchedule CronSchedule::parse(const std::string& expr, std::shared_ptr<const TimeZone> zone) {
  std::string text = expr;
  const size_t first = text.find_first_not_of(" \t");
  if (first != std::string::npos && text[first] == '@')
    text = expand_macro(text.substr(first, text.find_last_not_of(" \t") - first + 1));
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ' || text[i] == '\t') {
      ++i;
      continue;
    }
    const size_t end = std::min(text.find_first_of(" \t", i), text.size());
    parts.push_back(text.substr(i, end - i));
    i = end;
  }
  if (parts.size() != 5)
    throw Error(ErrorKind::Usage, "cron: '" + expr + "' has " + std::to_string(parts.size()) +
                                      " fields; expected 5 (minute hour day-of-month month day-of-week) or a "
                                      "macro such as @daily");
  auto f = std::make_shared<Fields>();
  f->minute = parse_field(kSpecs[0], parts[0]);
  f->hour = parse_field(kSpecs[1], parts[1]);
  f->dom = parse_field(kSpecs[2], parts[2]);
  f->month = parse_field(kSpecs[3], parts[3]);
  f->dow = parse_field(kSpecs[4], parts[4]);
  if (f->dow & (uint64_t{1} << 7)) f->dow = (f->dow | 1) & 0x7f;  // 7 is Sunday too
  f->dom_any = parts[2] == "*";
  f->dow_any = parts[4] == "*";
  CronSchedule c;
  c.fields_ = std::move(f);
  c.zone_ = zone ? std::move(zone) : TimeZone::load("UTC");
  return c;
}

std::optional<int64_t> CronSchedule::next_after(int64_t t) const {
  const Fields& f = *fields_;
  const int64_t start_local = civil::floor_div(t + zone_->offset_at(t), 60) * 60 + 60;
  const int64_t limit = start_local + (5 * 365 + 2) * civil::kDay;
  // Every minute at or before t's wall clock maps to an instant at or before t, so the search
  // starts at the next local minute; candidates still <= t come only from a repeated hour.
  int64_t day = civil::floor_div(start_local, civil::kDay);
  int64_t sod = start_local - day * civil::kDay;
  int hour = static_cast<int>(sod / 3600), minute = static_cast<int>(sod % 3600 / 60);
  while (day * civil::kDay <= limit) {
    const civil::Date d = civil::civil_from_days(day);
    if (!((f.month >> d.month) & 1)) {
      const int m = next_bit(f.month, d.month + 1);
      day = m < 0 ? civil::days_from_civil(d.year + 1, std::countr_zero(f.month), 1)
                  : civil::days_from_civil(d.year, m, 1);
      hour = minute = 0;
      continue;
    }
    if (!f.day_matches(d.day, civil::weekday(day))) {
      ++day;
      hour = minute = 0;
      continue;
    }
    const int h = next_bit(f.hour, hour);
    if (h < 0) {
      ++day;
      hour = minute = 0;
      continue;
    }
    if (h != hour) hour = h, minute = 0;
    const int m = next_bit(f.minute, minute);
    if (m < 0) {
      if (++hour == 24) ++day, hour = 0;
      minute = 0;
      continue;
    }
    const int64_t local = day * civil::kDay + hour * 3600 + m * 60;
    if (local > limit) break;
    const int64_t at = first_instant_at_or_after(*zone_, local);
    if (at > t) return at;
    minute = m + 1;  // this local minute already passed (its first occurrence was earlier)
    if (minute == 60) {
      minute = 0;
      if (++hour == 24) ++day, hour = 0;
    }
  }
  return std::nullopt;
}

}  // namespace arca::server
