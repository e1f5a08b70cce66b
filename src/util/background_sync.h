// Flushes to disk in the background while something writes.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace arca {

// Runs `flush` (a restore passes syncfs of its target) on a thread of its own, one run at a time,
// each time another `every` bytes have been reported through wrote(). A restore that flushes only
// at its end makes that final flush wait for everything the page cache, or a device with a large
// volatile write cache (a buffered loop device, a VM disk cached by its host), still holds: the
// kernel starts writing back on its own only past its dirty thresholds (10% of memory) or after
// 30 s. Flushing as it goes overlaps that work with the restore.
// `flush` must not throw; an exception from it is dropped (the caller's final flush reports).
class BackgroundSync {
 public:
  BackgroundSync(std::function<void()> flush, uint64_t every);  // every = 0: never
  ~BackgroundSync();                                            // stops the thread, after a flush that is running
  BackgroundSync(const BackgroundSync&) = delete;
  BackgroundSync& operator=(const BackgroundSync&) = delete;

  void wrote(uint64_t bytes);

 private:
  void run();

  std::function<void()> flush_;
  const uint64_t every_;
  std::atomic<uint64_t> written_{0};
  uint64_t flushed_blocks_ = 0;  // written_ / every_ at the last flush; the thread's own
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace arca
