// Retention policies: which snapshots to keep, decided from their times and tags alone (no I/O).
// Restic-like rules; every calendar bucket is taken in UTC so the result does not depend on the
// machine's time zone.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace arca {

// A calendar span like "30d", "1y6mo", "12h", "2w", "30min" or "1y2mo3w4d5h": units y, mo
// (months; also month/months), w, d, h, min (minutes), s (seconds), each at most once and in that
// order, each with a positive number. A bare "m" is refused as ambiguous (months or minutes?).
struct CalendarSpan {
  int years = 0, months = 0, weeks = 0, days = 0, hours = 0, minutes = 0, seconds = 0;
  std::string str() const;  // canonical text, e.g. "1y6mo" ("0d" for an all-zero span)
};

// Throws Error(Usage) naming the text and the accepted form. Each unit is capped at about 10000
// years (10000y, 120000mo, 520000w, 3650000d, 87600000h; min and s at 2e9) so the arithmetic
// cannot overflow.
CalendarSpan parse_span(const std::string& text);

// `unix_seconds` minus `span` in UTC civil-calendar arithmetic: years and months first, on the
// calendar, with the day clamped to the end of the month (2024-03-31 minus 1m is 2024-02-29 at
// the same time of day); then weeks (7 days), days and hours as exact durations.
int64_t subtract_span(int64_t unix_seconds, const CalendarSpan& span);
// The span's length in seconds when it ends at `unix_seconds` (calendar months vary).
inline int64_t span_seconds(const CalendarSpan& span, int64_t unix_seconds) {
  return unix_seconds - subtract_span(unix_seconds, span);
}

struct RetentionPolicy {
  // Counts: 0 = rule off, -1 = unlimited (every bucket), N > 0 = the N newest buckets.
  int last = 0, hourly = 0, daily = 0, weekly = 0, monthly = 0, yearly = 0;
  // Relative to the newest item, not to now, so a source that stopped backing up keeps its history.
  std::optional<CalendarSpan> within, within_hourly, within_daily, within_weekly, within_monthly, within_yearly;
  std::vector<std::string> tags;  // keep every item carrying any of these tags
  bool empty() const;             // no rule at all
  // E.g. "last 3, daily 7, within 30d, within-daily 1y, tags monthly,legal"; "no rules" if empty.
  std::string describe() const;
};

struct RetentionItem {
  int64_t time;  // unix seconds, UTC
  std::vector<std::string> tags;
};

struct RetentionDecision {
  bool keep = false;  // true iff reasons is non-empty
  std::vector<std::string> reasons;
};

// Decisions for `items` (any order), returned in the same order as `items`. Items with equal times
// are ordered by index: the later index counts as newer. A non-empty policy always keeps the newest
// item (reason "newest" if no rule kept it); an empty policy keeps nothing. Throws Error(Usage) for
// a count below -1.
std::vector<RetentionDecision> apply_retention(const RetentionPolicy& policy, const std::vector<RetentionItem>& items);

}  // namespace arca
