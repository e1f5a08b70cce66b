#include "repo/future_points.h"

#include <cmath>
#include <ctime>

#include "repo/config.h"
#include "util/clock.h"

namespace arca {

namespace {

// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: every time an RFC 3339 text can hold.
constexpr double kFirstTime = -62135596800.0, kLastTime = 253402300799.0;

std::string ahead_text(int64_t s) {
  auto n = [](int64_t v, const char* unit) { return std::to_string(v) + " " + unit + (v == 1 ? "" : "s"); };
  if (s >= 2 * 365 * 86400LL) return n(s / (365 * 86400LL), "year");
  if (s >= 2 * 86400) return n(s / 86400, "day");
  if (s >= 2 * 3600) return n(s / 3600, "hour");
  return n(s / 60, "minute");
}

}  // namespace

std::string printable(const std::string& s) {
  std::string out = s.substr(0, 80);
  for (char& c : out)
    if (c < 0x20 || c > 0x7e) c = '?';
  return out;
}

std::optional<int64_t> point_time(const Snapshot& s) {
  std::optional<double> t = parse_time(s.time);
  // The range check comes before the conversion: a double outside int64_t's range is UB to cast.
  if (!t || !std::isfinite(*t) || *t < kFirstTime || *t > kLastTime) return std::nullopt;
  return int64_t(std::floor(*t));
}

std::string future_dated(const Snapshot& s, int64_t now) {
  std::optional<int64_t> t = point_time(s);
  if (!t) return "its time '" + printable(s.time) + "' is not a valid time";
  if (*t <= now + kClockSkewSeconds) return "";
  return "dated " + printable(s.time) + ", " + ahead_text(*t - now) + " ahead of this machine's clock";
}

std::optional<Snapshot> newest_point(const std::vector<Snapshot>& points,
                                     const std::function<bool(const Snapshot&)>& match, int64_t now,
                                     std::vector<std::string>& skipped) {
  const Snapshot* best = nullptr;
  int64_t best_time = 0;
  for (const auto& s : points) {
    if (!match(s)) continue;
    if (std::string why = future_dated(s, now); !why.empty()) {
      skipped.push_back(
          "recovery point " + s.id.short_hex() + " (host " + printable(s.host) + ", " + printable(s.source_kind) +
          ") is " + (why.rfind("its ", 0) == 0 ? "not placeable in time: " + why : why) +
          "; 'latest' never picks a future-dated point (give its id to use it anyway; see docs/security.md)");
      continue;
    }
    int64_t t = *point_time(s);
    if (!best || t >= best_time) best = &s, best_time = t;
  }
  if (!best) return std::nullopt;
  return *best;
}

std::vector<std::pair<Id, std::string>> future_dated_points(const std::vector<Snapshot>& points, int64_t now) {
  std::vector<std::pair<Id, std::string>> out;
  for (const auto& s : points)
    if (std::string why = future_dated(s, now); !why.empty()) out.emplace_back(s.id, why);
  return out;
}

}  // namespace arca
