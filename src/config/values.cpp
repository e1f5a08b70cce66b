#include "config/values.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <regex>
#include <sstream>

#include "repo/retention.h"
#include "config/types.h"
#include "util/error.h"
#include "util/name_format.h"

namespace arca::config {

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::optional<int64_t> to_int(std::string_view s) {
  int64_t v = 0;
  if (!all_digits(s)) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

// Units from the largest down, each at most once, so "1h30m" reads one way only. The cap (about
// 100 years) keeps every sum far from overflow.
std::optional<int64_t> parse_duration(const std::string& s) {
  constexpr int64_t kMax = int64_t{100} * 366 * 86400;
  if (auto n = to_int(s)) return *n <= kMax ? n : std::nullopt;
  static constexpr std::pair<char, int64_t> kUnits[] = {{'w', 604800}, {'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
  int64_t total = 0;
  size_t next_unit = 0, i = 0;
  if (s.empty()) return std::nullopt;
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) j++;
    if (j == i || j == s.size()) return std::nullopt;
    auto n = to_int(std::string_view(s).substr(i, j - i));
    size_t u = next_unit;
    while (u < std::size(kUnits) && kUnits[u].first != s[j]) u++;
    if (!n || u == std::size(kUnits) || *n > kMax) return std::nullopt;
    total += *n * kUnits[u].second;
    if (total > kMax) return std::nullopt;
    next_unit = u + 1;
    i = j + 1;
  }
  return total;
}

namespace values {

Problem check_name(const std::string& s) {
  static const std::regex re("[A-Za-z0-9._-]+");
  if (std::regex_match(s, re)) return std::nullopt;
  return "'" + s + "' is not a valid name: use letters, digits, '.', '_' and '-'";
}

namespace {
Problem check_port(const std::string& port, const std::string& whole) {
  auto p = to_int(port);
  if (!p || *p < 1 || *p > 65535) return "'" + whole + "': the port must be a number from 1 to 65535";
  return std::nullopt;
}
}  // namespace

Problem check_listen(const std::string& s) {
  std::string host, port;
  if (!s.empty() && s[0] == '[') {
    auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':')
      return "'" + s + "' is not host:port (an IPv6 address goes in brackets: [::1]:8670)";
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string::npos) return "'" + s + "' is not host:port (e.g. 127.0.0.1:8670)";
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (host.find(':') != std::string::npos)
      return "'" + s + "': an IPv6 address goes in brackets: [" + host + "]:" + port;
  }
  if (host.empty()) return "'" + s + "' has no host: write 127.0.0.1:PORT (or 0.0.0.0:PORT to listen everywhere)";
  return check_port(port, s);
}

Problem check_host_port(const std::string& s) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) return "'" + s + "' is not host:port (e.g. localhost:9092)";
  return check_port(s.substr(colon + 1), s);
}

Problem check_cron_shape(const std::string& s) {
  static const char* kMacros[] = {"@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually"};
  if (!s.empty() && s[0] == '@') {
    for (const char* m : kMacros)
      if (s == m) return std::nullopt;
    return "'" + s + "' is not one of @hourly, @daily, @weekly, @monthly, @yearly";
  }
  std::istringstream in(s);
  std::vector<std::string> fields;
  for (std::string f; in >> f;) fields.push_back(f);
  if (fields.size() != 5)
    return "'" + s + "' has " + std::to_string(fields.size()) +
           " fields; a cron expression has 5: minute hour day-of-month month day-of-week (e.g. \"0 2 * * 0\")";
  for (const auto& f : fields)
    for (unsigned char c : f)
      if (!std::isalnum(c) && c != '*' && c != ',' && c != '-' && c != '/')
        return "'" + s + "': field '" + f + "' has '" + std::string(1, static_cast<char>(c)) +
               "'; fields use digits, names, '*', ',', '-' and '/'";
  return std::nullopt;
}

Problem check_time_zone(const std::string& s, const std::string& zoneinfo) {
  if (s.empty() || s[0] == '/' || s.find("..") != std::string::npos)
    return "'" + s + "' is not a time zone name: use an IANA name like UTC or Europe/Berlin";
  struct stat st {};
  if (::stat((zoneinfo + "/" + s).c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return "unknown time zone '" + s + "' (not in " + zoneinfo + "): use an IANA name like UTC or Europe/Berlin";
  return std::nullopt;
}

Problem check_subset(const std::string& s) {
  const std::string form = "'" + s + "' is not a subset: write a share like \"5%\" or a part like \"1/7\"";
  if (!s.empty() && s.back() == '%') {
    try {
      size_t used = 0;
      double v = std::stod(s.substr(0, s.size() - 1), &used);
      if (used == s.size() - 1 && v > 0 && v <= 100) return std::nullopt;
    } catch (const std::exception&) {}
    return form + " (above 0%, at most 100%)";
  }
  auto slash = s.find('/');
  if (slash == std::string::npos) return form;
  auto n = to_int(std::string_view(s).substr(0, slash)), t = to_int(std::string_view(s).substr(slash + 1));
  if (!n || !t) return form;
  if (*n < 1 || *n > *t) return form + " (n/t with 1 <= n <= t)";
  return std::nullopt;
}

Problem check_share(const std::string& s) {
  try {
    size_t used = 0;
    double v = std::stod(s, &used);
    if (used == s.size() - 1 && s.back() == '%')
      v /= 100;
    else if (used != s.size())
      v = -1;
    if (v > 0 && v <= 1) return std::nullopt;
  } catch (const std::exception&) {}
  return "'" + s + "' is not a share: write 25% or 0.25 (above 0, at most 100%)";
}

Problem check_span(const std::string& s) {
  try {
    parse_span(s);
    return std::nullopt;
  } catch (const Error& e) {
    return std::string(e.what());
  }
}

Problem check_grace(const std::string& s) { return s == "0" ? std::nullopt : check_span(s); }

Problem check_regex(const std::string& s) {
  try {
    std::regex re(s);
    return std::nullopt;
  } catch (const std::regex_error& e) {
    return "'" + s + "' is not a regular expression: " + e.what();
  }
}

Problem check_clock_time(const std::string& s) {
  if (s.size() == 5 && s[2] == ':') {
    auto h = to_int(std::string_view(s).substr(0, 2)), m = to_int(std::string_view(s).substr(3, 2));
    if (h && m && *h < 24 && *m < 60) return std::nullopt;
  }
  return "'" + s + "' is not a time of day: write HH:MM (UTC), e.g. 07:30";
}

Problem check_event_name(const std::string& s) {
  static const std::regex re("[A-Z]+(_[A-Z]+)*");
  if (std::regex_match(s, re)) return std::nullopt;
  return "'" + s + "' is not an event name: events are spelled like BACKUP_JOB_FAILED (docs/server.md)";
}

Problem check_http_url(const std::string& s) {
  if ((s.rfind("http://", 0) == 0 && s.size() > 7) || (s.rfind("https://", 0) == 0 && s.size() > 8))
    return std::nullopt;
  return "'" + s + "' is not an http:// or https:// URL";
}

bool url_has_password(const std::string& s) {
  auto scheme = s.find("://");
  if (scheme == std::string::npos) return false;
  auto start = scheme + 3;
  auto end = s.find_first_of("/?#", start);
  std::string authority = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
  auto at = authority.rfind('@');
  return at != std::string::npos && authority.substr(0, at).find(':') != std::string::npos;
}

bool conninfo_has_password(const std::string& s) {
  static const std::regex keyword(R"((^|\s)password\s*=)", std::regex::icase);
  static const std::regex uri_param(R"([?&]password=)", std::regex::icase);
  if (s.find("://") != std::string::npos) return url_has_password(s) || std::regex_search(s, uri_param);
  return std::regex_search(s, keyword);
}

bool option_is_secret(const std::string& key) {
  std::string k = lower(key);
  for (const char* word : {"secret", "password", "passwd", "token"})
    if (k.find(word) != std::string::npos) return true;
  return false;
}

namespace {
}  // namespace

std::string nearest(std::string_view key, const std::vector<std::string_view>& known) {
  std::string k = lower(std::string(key));
  std::replace(k.begin(), k.end(), '_', '-');
  std::string best;
  size_t best_d = std::max<size_t>(2, k.size() / 3) + 1;  // farther than this is no suggestion
  for (auto cand : known) {
    size_t d = edit_distance(k, cand);
    if (d < best_d) best_d = d, best = std::string(cand);
  }
  return best;
}

}  // namespace values
}  // namespace arca::config
