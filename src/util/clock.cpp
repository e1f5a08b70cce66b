#include "util/clock.h"

#include <sys/time.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace arca {

std::string now_rfc3339() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t;
  gmtime_r(&ts.tv_sec, &t);
  char buf[64];
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &t);
  snprintf(buf + n, sizeof buf - n, ".%06ldZ", ts.tv_nsec / 1000);
  return buf;
}

std::string rfc3339_utc(double unix_seconds, bool millis) {
  if (unix_seconds == 0 || !std::isfinite(unix_seconds) || unix_seconds < -62135596800.0 ||
      unix_seconds >= 253402300800.0)
    return "";
  double whole = std::floor(unix_seconds);
  time_t t = static_cast<time_t>(whole);
  tm tm{};
  if (!gmtime_r(&t, &tm)) return "";
  char buf[48];
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  if (millis)
    snprintf(buf + n, sizeof buf - n, ".%03dZ", std::min(999, static_cast<int>((unix_seconds - whole) * 1000)));
  else
    snprintf(buf + n, sizeof buf - n, "Z");
  return buf;
}

std::optional<double> parse_time(const std::string& s) {
  int y, mo, d, h, mi;
  double sec;
  int used = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%*1[T ]%2d:%2d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &used) != 6)
    return std::nullopt;
  // A field out of range is an error, not carried over (timegm would read 2026-12-32 as
  // 2027-01-01: a PostgreSQL target or a lock expiry the user did not write). Second 60: a leap
  // second, as RFC 3339 allows.
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] + (mo == 2 && leap) || h < 0 || h > 23 || mi < 0 ||
      mi > 59 || !(sec >= 0 && sec < 61))
    return std::nullopt;
  std::string zone = s.substr(size_t(used));
  while (!zone.empty() && zone.front() == ' ') zone.erase(0, 1);
  long offset = 0;
  if (zone == "Z" || zone == "z" || zone == "UTC" || zone == "+00" || zone == "+00:00") {
    offset = 0;
  } else {
    int zh = 0, zm = 0;
    char sign = 0;
    if (zone.size() < 3 || (zone[0] != '+' && zone[0] != '-') || std::sscanf(zone.c_str() + 1, "%2d", &zh) != 1)
      return std::nullopt;  // no (or an unknown) zone: ambiguous
    sign = zone[0];
    size_t rest = 3;
    if (zone.size() > rest && zone[rest] == ':') rest++;
    if (zone.size() > rest && std::sscanf(zone.c_str() + rest, "%2d", &zm) != 1) return std::nullopt;
    if (zh > 23 || zm > 59) return std::nullopt;
    offset = (zh * 3600L + zm * 60L) * (sign == '-' ? -1 : 1);
  }
  tm t{};
  t.tm_year = y - 1900;
  t.tm_mon = mo - 1;
  t.tm_mday = d;
  t.tm_hour = h;
  t.tm_min = mi;
  t.tm_sec = 0;
  return double(timegm(&t)) + sec - double(offset);
}

std::string utc_time(const std::string& s) {
  std::optional<double> t = parse_time(s);
  // Range first: a double outside int64_t's range is undefined behaviour to convert.
  if (!t || !std::isfinite(*t) || *t < -62135596800.0 || *t >= 253402300800.0) return s;
  auto whole = int64_t(std::floor(*t));
  std::string frac;  // the offset is whole minutes, so the fraction is the one written
  if (size_t dot = s.find('.'); dot == 19) {
    size_t end = dot + 1;
    while (end < s.size() && std::isdigit(uint8_t(s[end]))) end++;
    if (end > dot + 1) frac = s.substr(dot, end - dot);
  }
  time_t tt = time_t(whole);
  tm g{};
  if (!gmtime_r(&tt, &g)) return s;
  char buf[40];
  snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", g.tm_year + 1900, g.tm_mon + 1, g.tm_mday, g.tm_hour,
           g.tm_min, g.tm_sec);
  return buf + frac + "Z";
}

int64_t clock_now() { return int64_t(std::time(nullptr)); }

double clock_now_s() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

}  // namespace arca
