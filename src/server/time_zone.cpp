// TimeZone::load: IANA zones from the system's TZif files (RFC 8536, versions 1 to 3). The table
// of transitions answers for the past; the footer's POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3")
// answers after the last transition, which in most files is around 2037.
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <mutex>

#include "server/civil_time.h"
#include "server/schedule.h"
#include "util/error.h"
#include "util/io.h"

namespace arca::server {
namespace {

constexpr const char* kZoneDir = "/usr/share/zoneinfo";

// A POSIX TZ string: standard offset, and optionally a DST offset with the two yearly rules.
class PosixRule {
 public:
  // nullopt when `s` is not a valid TZ string.
  static std::optional<PosixRule> parse(const std::string& s);

  int offset_at(int64_t utc) const {
    if (!has_dst_) return std_off_;
    auto events = around(utc);
    int off = std_off_;
    for (const auto& [at, dst] : events)
      if (at <= utc) off = dst ? dst_off_ : std_off_;
    return off;
  }

  std::optional<int64_t> next_transition(int64_t utc) const {
    if (!has_dst_) return std::nullopt;
    for (const auto& [at, dst] : around(utc))
      if (at > utc) return at;
    return std::nullopt;
  }

 private:
  struct When {
    char kind = 'M';  // 'J': Julian day 1-365 without Feb 29; 'D': zero-based day 0-365; 'M': month.week.day
    int a = 0, b = 0, c = 0;
    int32_t time = 7200;  // local seconds after midnight (RFC 8536 allows -167h to 167h)
  };

  int64_t day_of(int64_t year, const When& w) const {
    const int64_t jan1 = civil::days_from_civil(year, 1, 1);
    if (w.kind == 'J') return jan1 + w.a - 1 + (civil::leap(year) && w.a >= 60 ? 1 : 0);
    if (w.kind == 'D') return jan1 + w.a;
    const int64_t first = civil::days_from_civil(year, w.a, 1);
    int64_t d = first + civil::floor_mod(w.c - civil::weekday(first), 7) + 7 * (w.b - 1);
    while (d >= first + civil::days_in_month(year, w.a)) d -= 7;  // week 5: the last one
    return d;
  }

  // The transitions of the years around `utc`, in order: (instant, DST from then on).
  std::array<std::pair<int64_t, bool>, 6> around(int64_t utc) const {
    const int64_t year = civil::civil_from_days(civil::floor_div(utc + std_off_, civil::kDay)).year;
    std::array<std::pair<int64_t, bool>, 6> out;
    for (int i = 0; i < 3; ++i) {
      const int64_t y = year - 1 + i;
      // The start is written in standard time, the end in daylight time.
      out[2 * i] = {day_of(y, start_) * civil::kDay + start_.time - std_off_, true};
      out[2 * i + 1] = {day_of(y, end_) * civil::kDay + end_.time - dst_off_, false};
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  int32_t std_off_ = 0, dst_off_ = 0;  // seconds east of UTC
  bool has_dst_ = false;
  When start_, end_;
};

// A cursor over a TZ string; every reader returns false on malformed input.
struct TzCursor {
  const std::string& s;
  size_t i = 0;
  bool done() const { return i >= s.size(); }
  char peek() const { return done() ? '\0' : s[i]; }

  bool name() {
    if (peek() == '<') {
      const size_t close = s.find('>', i);
      if (close == std::string::npos || close == i + 1) return false;
      i = close + 1;
      return true;
    }
    const size_t begin = i;
    while (!done() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
    return i - begin >= 3;
  }
  bool number(int max, int& out) {
    const size_t begin = i;
    out = 0;
    while (!done() && std::isdigit(static_cast<unsigned char>(s[i])) && i - begin < 4) out = out * 10 + (s[i++] - '0');
    return i > begin && out <= max;
  }
  // [+-]hh[:mm[:ss]] as seconds (the sign as written).
  bool hms(int max_hours, int32_t& out) {
    int sign = 1;
    if (peek() == '+' || peek() == '-') sign = s[i++] == '-' ? -1 : 1;
    int h = 0, m = 0, sec = 0;
    if (!number(max_hours, h)) return false;
    if (peek() == ':') {
      ++i;
      if (!number(59, m)) return false;
      if (peek() == ':') {
        ++i;
        if (!number(59, sec)) return false;
      }
    }
    out = sign * (h * 3600 + m * 60 + sec);
    return true;
  }
};

std::optional<PosixRule> PosixRule::parse(const std::string& s) {
  TzCursor c{s};
  PosixRule r;
  int32_t west = 0;
  if (!c.name() || !c.hms(24, west)) return std::nullopt;
  r.std_off_ = -west;  // POSIX counts hours west of Greenwich
  if (c.done()) return r;
  if (!c.name()) return std::nullopt;
  r.has_dst_ = true;
  r.dst_off_ = r.std_off_ + 3600;
  if (c.peek() != ',' && !c.done()) {
    if (!c.hms(24, west)) return std::nullopt;
    r.dst_off_ = -west;
  }
  if (c.done()) {  // no rule: POSIX leaves it to the implementation; the US rule is the usual one
    r.start_ = When{'M', 3, 2, 0, 7200};
    r.end_ = When{'M', 11, 1, 0, 7200};
    return r;
  }
  auto when = [&](When& w) {
    if (c.peek() != ',') return false;
    ++c.i;
    if (c.peek() == 'M') {
      ++c.i;
      w.kind = 'M';
      if (!c.number(12, w.a) || w.a < 1 || c.peek() != '.') return false;
      ++c.i;
      if (!c.number(5, w.b) || w.b < 1 || c.peek() != '.') return false;
      ++c.i;
      if (!c.number(6, w.c)) return false;
    } else if (c.peek() == 'J') {
      ++c.i;
      w.kind = 'J';
      if (!c.number(365, w.a) || w.a < 1) return false;
    } else {
      w.kind = 'D';
      if (!c.number(365, w.a)) return false;
    }
    w.time = 7200;
    if (c.peek() == '/') {
      ++c.i;
      if (!c.hms(167, w.time)) return false;
    }
    return true;
  };
  if (!when(r.start_) || !when(r.end_) || !c.done()) return std::nullopt;
  return r;
}

class TzifZone final : public TimeZone {
 public:
  TzifZone(std::string name, std::vector<int64_t> at, std::vector<int32_t> off, int32_t initial,
           std::optional<PosixRule> rule)
      : name_(std::move(name)), at_(std::move(at)), off_(std::move(off)), initial_(initial), rule_(std::move(rule)) {}

  const std::string& name() const override { return name_; }

  int offset_at(int64_t utc) const override {
    if (rule_ && (at_.empty() || utc >= at_.back())) return rule_->offset_at(utc);
    const auto it = std::upper_bound(at_.begin(), at_.end(), utc);
    return it == at_.begin() ? initial_ : off_[static_cast<size_t>(it - at_.begin()) - 1];
  }

  std::optional<int64_t> next_transition(int64_t utc) const override {
    const auto it = std::upper_bound(at_.begin(), at_.end(), utc);
    if (it != at_.end()) return *it;
    if (rule_) return rule_->next_transition(utc);
    return std::nullopt;
  }

 private:
  std::string name_;
  std::vector<int64_t> at_;   // transition instants, ascending
  std::vector<int32_t> off_;  // the offset from each transition on
  int32_t initial_;           // before the first transition (time type 0)
  std::optional<PosixRule> rule_;
};

// Big-endian reads with bounds checks over a TZif file.
struct TzifReader {
  const Bytes& b;
  const std::string& name;
  const std::string& path;
  size_t pos = 0;

  [[noreturn]] void corrupt(const std::string& why) const {
    throw Error(ErrorKind::Corrupt, "time zone file " + path + ": " + why + "; reinstall the tzdata package");
  }
  void need(size_t n) const {
    if (pos + n > b.size() || pos + n < pos) corrupt("truncated");
  }
  uint64_t be(size_t n) {
    need(n);
    uint64_t v = 0;
    for (size_t k = 0; k < n; ++k) v = v << 8 | b[pos + k];
    pos += n;
    return v;
  }
  int64_t time(size_t n) {  // a signed 32- or 64-bit instant
    const uint64_t v = be(n);
    return n == 4 ? static_cast<int32_t>(static_cast<uint32_t>(v)) : static_cast<int64_t>(v);
  }
};

struct TzifCounts {
  uint64_t isut = 0, isstd = 0, leap = 0, time = 0, type = 0, chars = 0;
};

TzifCounts read_header(TzifReader& r, char& version) {
  r.need(44);
  if (r.b[r.pos] != 'T' || r.b[r.pos + 1] != 'Z' || r.b[r.pos + 2] != 'i' || r.b[r.pos + 3] != 'f')
    throw Error(ErrorKind::Usage, "time zone '" + r.name + "': " + r.path + " is not a TZif file");
  version = static_cast<char>(r.b[r.pos + 4]);
  r.pos += 20;
  TzifCounts c;
  c.isut = r.be(4), c.isstd = r.be(4), c.leap = r.be(4), c.time = r.be(4), c.type = r.be(4), c.chars = r.be(4);
  if (c.type == 0 || c.type > 256) r.corrupt("no local time types");
  return c;
}

std::shared_ptr<const TimeZone> parse_tzif(const std::string& name, const std::string& path, const Bytes& b) {
  TzifReader r{b, name, path};
  char version = 0;
  TzifCounts c = read_header(r, version);
  size_t tsize = 4;
  if (version >= '2') {  // skip the 32-bit block: the 64-bit one after it covers all of time
    r.pos += c.time * 5 + c.type * 6 + c.chars + c.leap * 8 + c.isstd + c.isut;
    c = read_header(r, version);
    tsize = 8;
  }
  std::vector<int64_t> at(c.time);
  std::vector<uint8_t> idx(c.time);
  for (auto& t : at) t = r.time(tsize);
  for (auto& i : idx) {
    i = static_cast<uint8_t>(r.be(1));
    if (i >= c.type) r.corrupt("a transition names a missing time type");
  }
  std::vector<int32_t> type_off(c.type);
  for (auto& o : type_off) {
    o = static_cast<int32_t>(static_cast<uint32_t>(r.be(4)));
    r.pos += 2;  // isdst, abbreviation index: not needed for offsets
  }
  if (!std::is_sorted(at.begin(), at.end())) r.corrupt("transitions out of order");
  std::vector<int32_t> off(c.time);
  for (size_t k = 0; k < at.size(); ++k) off[k] = type_off[idx[k]];

  std::optional<PosixRule> rule;
  if (tsize == 8) {
    r.pos += c.chars + c.leap * 12 + c.isstd + c.isut;
    r.need(1);
    if (r.b[r.pos] != '\n') r.corrupt("no footer");
    const size_t begin = r.pos + 1;
    size_t end = begin;
    while (end < b.size() && b[end] != '\n') ++end;
    if (end == b.size()) r.corrupt("unterminated footer");
    const std::string footer(b.begin() + static_cast<std::ptrdiff_t>(begin),
                             b.begin() + static_cast<std::ptrdiff_t>(end));
    if (!footer.empty()) {
      rule = PosixRule::parse(footer);
      if (!rule) r.corrupt("footer '" + footer + "' is not a POSIX TZ rule");
    }
  }
  return std::make_shared<TzifZone>(name, std::move(at), std::move(off), type_off[0], std::move(rule));
}

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 255 || name.front() == '/') return false;
  for (char ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '/' && ch != '_' && ch != '-' && ch != '+' && ch != '.')
      return false;
  size_t start = 0;
  while (start <= name.size()) {  // no "." or ".." component, no empty one
    const size_t slash = std::min(name.find('/', start), name.size());
    const std::string part = name.substr(start, slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = slash + 1;
  }
  return true;
}

std::shared_ptr<const TimeZone> read_zone(const std::string& name) {
  if (!valid_name(name))
    throw Error(ErrorKind::Usage,
                "time zone '" + name + "' is not a zone name (an IANA name such as Europe/Berlin or UTC)");
  const std::string path = std::string(kZoneDir) + "/" + name;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    if (name == "UTC" || name == "Etc/UTC")  // a system without tzdata still knows UTC
      return std::make_shared<TzifZone>(name, std::vector<int64_t>{}, std::vector<int32_t>{}, 0, std::nullopt);
    throw Error(ErrorKind::Usage, "time zone '" + name + "' not found in " + kZoneDir +
                                      " (an IANA name such as Europe/Berlin or UTC; is tzdata installed?)");
  }
  return parse_tzif(name, path, read_whole_file(path));
}

}  // namespace

std::shared_ptr<const TimeZone> TimeZone::load(const std::string& name) {
  // Zones never change while the server runs; a plan reload must not re-read them (1,000 plans).
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const TimeZone>> cache;
  {
    std::lock_guard lock(mu);
    if (auto it = cache.find(name); it != cache.end()) return it->second;
  }
  auto zone = read_zone(name);
  std::lock_guard lock(mu);
  return cache.emplace(name, std::move(zone)).first->second;
}

}  // namespace arca::server
