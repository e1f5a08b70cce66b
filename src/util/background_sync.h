// Flushes a filesystem in the background while something writes to it.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "util/fd.h"

namespace arca {

// Calls syncfs() on the filesystem holding `dir` on its own thread, one call at a time, after
// every `every` bytes reported through wrote(). Without it a restore leaves everything it wrote
// through the page cache dirty until its final syncfs, which then waits for all of it at once
// (measured: a quarter of an S3 restore into a loop-mounted filesystem). Writeback now overlaps
// the restore, and the dirty memory a restore holds stays near `every` while the disk keeps up.
// Errors are left to the caller's own final syncfs: this object syncs through a descriptor of its
// own, so the kernel still reports a failed writeback to the caller's descriptor.
class BackgroundSync {
 public:
  BackgroundSync(const std::string& dir, uint64_t every);  // inert if dir cannot be opened
  BackgroundSync(std::function<void()> flush, uint64_t every);  // flush: what a sync does
  ~BackgroundSync();  // stops the thread, after a flush that is running
  BackgroundSync(const BackgroundSync&) = delete;
  BackgroundSync& operator=(const BackgroundSync&) = delete;

  void wrote(uint64_t bytes);

 private:
  void run();

  UniqueFd fd_;
  std::function<void()> flush_;
  const uint64_t every_;
  std::atomic<uint64_t> written_{0};
  uint64_t synced_at_ = 0;  // the thread's own
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace arca
