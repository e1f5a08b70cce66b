#include "storage/rate_limited_backend.h"

#include <algorithm>
#include <filesystem>
#include <thread>

namespace arca {

void RateLimit::take(uint64_t bytes) {
  Clock::time_point until;
  {
    std::lock_guard lk(mu_);
    auto now = Clock::now();
    // Idle time earns at most one second of burst.
    next_ = std::max(next_, now - std::chrono::seconds(1));
    next_ += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(double(bytes) / rate_));
    until = next_;
  }
  // In slices, so that a cancel is seen within a fraction of a second.
  while (Clock::now() < until) {
    if (cancel_) cancel_->check("copy");
    std::this_thread::sleep_for(std::min<Clock::duration>(until - Clock::now(), std::chrono::milliseconds(100)));
  }
}

void RateLimitedBackend::put_file(const std::string& name, const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (!ec) limit_.take(size);
  inner_->put_file(name, path);
}

}  // namespace arca
