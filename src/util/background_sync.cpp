#include "util/background_sync.h"

namespace arca {

BackgroundSync::BackgroundSync(std::function<void()> flush, uint64_t every) : flush_(std::move(flush)), every_(every) {
  if (flush_ && every_ > 0) thread_ = std::thread([this] { run(); });
}

BackgroundSync::~BackgroundSync() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void BackgroundSync::wrote(uint64_t bytes) {
  uint64_t now = written_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  if (!thread_.joinable() || now / every_ == (now - bytes) / every_) return;
  std::lock_guard lk(mu_);  // taken so that the wake-up cannot fall between the thread's check and its wait
  cv_.notify_one();
}

void BackgroundSync::run() {
  std::unique_lock lk(mu_);
  while (true) {
    cv_.wait(lk, [this] { return stop_ || written_.load(std::memory_order_relaxed) / every_ != flushed_blocks_; });
    if (stop_) return;
    flushed_blocks_ = written_.load(std::memory_order_relaxed) / every_;
    lk.unlock();
    try {
      flush_();
    } catch (...) {  // see the header: the final flush is the one that reports
    }
    lk.lock();
  }
}

}  // namespace arca
