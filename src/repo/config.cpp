#include "repo/config.h"

#include <pwd.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "util/error.h"

namespace arca {

using nlohmann::json;

static std::string key_b64(const Key& k) { return to_base64(k.b); }
static Key b64_key(const std::string& s) {
  Bytes raw = from_base64(s);
  if (raw.size() != 32) throw Error(ErrorKind::Corrupt, "config: key of wrong length");
  Key k;
  std::copy(raw.begin(), raw.end(), k.b.begin());
  return k;
}

Bytes RepoConfig::encode() const {
  json j = {
      {"format", format},
      {"id", repo_id.hex()},
      {"created", created},
      {"chunker", {{"min_size", chunker.min_size}, {"avg_size", chunker.avg_size}, {"max_size", chunker.max_size}}},
      {"zstd_level", zstd_level},
      {"data_pack_size", data_pack_size},
      {"meta_pack_size", meta_pack_size},
      {"id_key", key_b64(id_key)},
      {"chunker_seed", key_b64(chunker_seed)}};
  std::string s = j.dump();
  return Bytes(s.begin(), s.end());
}

RepoConfig RepoConfig::decode(ByteView data) {
  try {
    json j = json::parse(data.begin(), data.end());
    RepoConfig c;
    c.format = j.at("format").get<int>();
    if (c.format != kRepoFormat)
      throw Error(ErrorKind::FormatVersion, "repository format version " + std::to_string(c.format) +
                                                " is not supported by this arca (it reads version " +
                                                std::to_string(kRepoFormat) + "); use a matching arca release");
    c.repo_id = Id::from_hex(j.at("id").get<std::string>());
    c.created = j.value("created", "");
    c.chunker.min_size = j.at("chunker").at("min_size");
    c.chunker.avg_size = j.at("chunker").at("avg_size");
    c.chunker.max_size = j.at("chunker").at("max_size");
    c.zstd_level = j.at("zstd_level");
    c.data_pack_size = j.at("data_pack_size");
    c.meta_pack_size = j.at("meta_pack_size");
    c.id_key = b64_key(j.at("id_key"));
    c.chunker_seed = b64_key(j.at("chunker_seed"));
    return c;
  } catch (const json::exception& e) {
    throw Error(ErrorKind::Corrupt, std::string("config object is malformed: ") + e.what());
  }
}

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

std::optional<double> parse_time(const std::string& s) {
  int y, mo, d, h, mi;
  double sec;
  int used = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%*1[T ]%2d:%2d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &used) != 6)
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

std::string local_hostname() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

std::string local_username() {
  if (passwd* pw = getpwuid(geteuid())) return pw->pw_name;
  return std::to_string(geteuid());
}

}  // namespace arca
