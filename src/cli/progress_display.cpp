#include "cli/progress_display.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>

#include "cli/common.h"
#include "util/name_format.h"

namespace arca {

ProgressDisplay::ProgressDisplay(const ProgressCounters& c, std::string verb, std::string unit, bool enabled)
    : c_(c),
      verb_(std::move(verb)),
      unit_(std::move(unit)),
      enabled_(enabled),
      start_(std::chrono::steady_clock::now()) {
  if (!enabled_) return;
  thread_ = std::thread([this] {
    while (!stop_) {
      for (int i = 0; i < 5 && !stop_; i++) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (!stop_) draw(false);
    }
  });
}

ProgressDisplay::~ProgressDisplay() { stop(); }

void ProgressDisplay::stop() {
  if (!enabled_ || stop_.exchange(true)) return;
  if (thread_.joinable()) thread_.join();
  fprintf(stderr, "\r\033[K");
  fflush(stderr);
}

std::string fit_tail(const std::string& text, size_t columns) {
  if (display_width(text) <= columns || columns == 0) return columns ? text : "";
  // Keep the last columns-1 characters (continuation bytes take no column), then the ellipsis.
  size_t start = text.size(), used = 0;
  while (start > 0) {
    size_t k = start - 1;
    while (k > 0 && (uint8_t(text[k]) & 0xC0) == 0x80) k--;  // to the character's first byte
    if (used + 1 > columns - 1) break;
    used++;
    start = k;
  }
  return "…" + text.substr(start);
}

void ProgressDisplay::draw(bool) {
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  uint64_t bytes = c_.bytes_done, files = c_.files_done;
  double rate = secs > 0 ? double(bytes) / secs : 0;
  std::string line = "[" + human_duration(secs) + "] " + verb_ + " " + std::to_string(files);
  if (c_.totals_known) line += "/" + std::to_string(c_.files_total.load());
  line += " " + unit_ + ", " + human_bytes(bytes);
  if (c_.totals_known) line += " / " + human_bytes(c_.bytes_total);
  line += ", " + human_bytes(uint64_t(rate)) + "/s";
  if (c_.totals_known && rate > 0 && c_.bytes_total > bytes)
    line += ", ETA " + human_duration(double(c_.bytes_total - bytes) / rate);
  if (c_.errors) line += ", " + std::to_string(c_.errors.load()) + " errors";
  // The name is escaped (a newline or terminal command in it must not break the line) and cut
  // by display columns at character boundaries, keeping its end (the file's own name).
  std::string cur = escape_name(c_.current());
  winsize ws{};
  size_t width = ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20 ? ws.ws_col : 100;
  if (line.size() > width) line.resize(width);  // ASCII so far
  if (!cur.empty() && line.size() + 10 < width) line += "  " + fit_tail(cur, width - line.size() - 2);
  fprintf(stderr, "\r\033[K%s", line.c_str());
  fflush(stderr);
}

}  // namespace arca
