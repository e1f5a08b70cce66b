// Counters a long operation updates and a display (terminal or JSON) polls. Lock-free.
#pragma once
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace arca {

struct ProgressCounters {
  std::atomic<uint64_t> files_done{0};
  std::atomic<uint64_t> bytes_done{0};
  std::atomic<uint64_t> files_total{0};
  std::atomic<uint64_t> bytes_total{0};
  std::atomic<bool> totals_known{false};
  std::atomic<uint64_t> errors{0};

  void set_current(const std::string& item) {
    std::lock_guard lk(mu_);
    current_ = item;
  }
  std::string current() const {
    std::lock_guard lk(mu_);
    return current_;
  }

 private:
  mutable std::mutex mu_;
  std::string current_;
};

}  // namespace arca
