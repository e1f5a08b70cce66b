// What commands print: JSON, sizes, durations, times, counts and tables.
#include <unistd.h>

#include <algorithm>
#include <iostream>

#include "cli/common.h"
#include "util/name_format.h"

namespace arca {
bool show_progress(const GlobalOptions& g) { return !g.json && !g.quiet && !g.no_progress && isatty(2); }

void print_json(const nlohmann::json& j) {
  std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
}

bool report_saved_snapshot(const GlobalOptions& g, const Snapshot& snap, const nlohmann::json& extra) {
  if (!g.quiet)
    for (const auto& w : snap.warnings) std::cerr << "warning: " << w.path << ": " << w.message << "\n";
  if (g.json) {
    nlohmann::json j = snap.to_json();
    j["short_id"] = snap.id.short_hex();
    for (const auto& [k, v] : extra.items()) j[k] = v;
    print_json(j);
    return false;
  }
  return !g.quiet;
}

std::string human_bytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = double(n);
  int u = 0;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    u++;
  }
  char buf[32];
  if (u == 0)
    snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  else
    snprintf(buf, sizeof buf, "%.2f %s", v, units[u]);
  return buf;
}

std::string human_duration(double s) {
  char buf[32];
  long t = long(s + 0.5);
  if (s < 60)
    snprintf(buf, sizeof buf, "%.2fs", s);
  else if (t < 3600)
    snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  else
    snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  return buf;
}

std::string short_time(const std::string& t) {
  if (t.size() < 19) return t;
  std::string s = t.substr(0, 19);
  s[10] = ' ';
  return s;
}

std::string counted(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                 const std::vector<bool>& right) {
  std::vector<size_t> w(header.size());
  for (size_t i = 0; i < header.size(); i++) w[i] = display_width(header[i]);
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size() && i < w.size(); i++) w[i] = std::max(w[i], display_width(r[i]));
  auto line = [&](const std::vector<std::string>& r) {
    std::string out;
    for (size_t i = 0; i < r.size(); i++) {
      bool rj = i < right.size() && right[i];
      std::string pad(w[i] - std::min(w[i], display_width(r[i])), ' ');
      out += rj ? pad + r[i] : r[i] + (i + 1 < r.size() ? pad : "");
      if (i + 1 < r.size()) out += "  ";
    }
    std::cout << out << "\n";
  };
  line(header);
  size_t total = 0;
  for (auto x : w) total += x + 2;
  std::cout << std::string(total > 2 ? total - 2 : 0, '-') << "\n";
  for (const auto& r : rows) line(r);
}

}  // namespace arca
