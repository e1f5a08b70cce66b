#include "util/background_sync.h"

#include <fcntl.h>
#include <unistd.h>

namespace arca {

BackgroundSync::BackgroundSync(const std::string& dir, uint64_t every) : every_(every) {
  fd_ = UniqueFd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd_) return;  // nothing to sync through: the caller's final sync does it all
  flush_ = [fd = fd_.get()] { syncfs(fd); };
  if (every_ > 0) thread_ = std::thread([this] { run(); });
}

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
    cv_.wait(lk, [this] { return stop_ || written_.load(std::memory_order_relaxed) - synced_at_ >= every_; });
    if (stop_) return;
    synced_at_ = written_.load(std::memory_order_relaxed);
    lk.unlock();
    flush_();
    lk.lock();
  }
}

}  // namespace arca
