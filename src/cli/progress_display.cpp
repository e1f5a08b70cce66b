#include "cli/progress_display.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>

#include "cli/common.h"

namespace arca {

ProgressDisplay::ProgressDisplay(const ProgressCounters& c, std::string verb, std::string unit, bool enabled)
    : c_(c), verb_(std::move(verb)), unit_(std::move(unit)), enabled_(enabled), start_(std::chrono::steady_clock::now()) {
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
  std::string cur = c_.current();
  winsize ws{};
  size_t width = ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20 ? ws.ws_col : 100;
  if (!cur.empty() && line.size() + 10 < width) {
    size_t room = width - line.size() - 3;
    if (cur.size() > room) cur = "…" + cur.substr(cur.size() - room + 1);
    line += "  " + cur;
  }
  if (line.size() > width) line.resize(width);
  fprintf(stderr, "\r\033[K%s", line.c_str());
  fflush(stderr);
}

}  // namespace arca
