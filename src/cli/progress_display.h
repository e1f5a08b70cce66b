// Live progress on the terminal (stderr): items, bytes, rate and ETA, redrawn in place.
#pragma once
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "util/progress.h"

namespace arca {

// The end of `text` in at most `columns` terminal columns, with "…" in front if it was cut;
// never splits a UTF-8 character.
std::string fit_tail(const std::string& text, size_t columns);

class ProgressDisplay {
 public:
  // `unit` names what files_done counts ("files", "packs"). Does nothing unless `enabled`.
  ProgressDisplay(const ProgressCounters& c, std::string verb, std::string unit, bool enabled);
  ~ProgressDisplay();  // stops and clears the line
  void stop();

 private:
  void draw(bool final);
  const ProgressCounters& c_;
  std::string verb_, unit_;
  bool enabled_;
  std::atomic<bool> stop_{false};
  std::chrono::steady_clock::time_point start_;
  std::thread thread_;
};

}  // namespace arca
