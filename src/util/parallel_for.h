// Runs fn(0..n-1) on up to `threads` threads; the first exception thrown is rethrown once all
// threads have stopped (the remaining items are skipped). With one thread it runs inline.
// With a cancel token, no item starts once it is cancelled, and Error(Cancelled, "<what>
// cancelled") is thrown when the items running have ended.
#pragma once
#include <atomic>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "util/job_context.h"

namespace arca {

inline void parallel_for(size_t n, unsigned threads, const std::function<void(size_t)>& fn,
                         const CancelToken* cancel = nullptr, const char* what = "operation") {
  auto stop = [cancel] { return cancel && cancel->cancelled(); };
  if (threads <= 1 || n <= 1) {
    for (size_t i = 0; i < n; i++) {
      if (stop()) cancel->check(what);
      fn(i);
    }
    return;
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex mu;
  auto work = [&] {
    for (size_t i; !failed && !stop() && (i = next++) < n;) {
      try {
        fn(i);
      } catch (...) {
        std::lock_guard lk(mu);
        if (!error) error = std::current_exception();
        failed = true;
      }
    }
  };
  std::vector<std::thread> pool;
  try {
    for (unsigned t = 1; t < std::min<size_t>(threads, n); t++) pool.emplace_back(work);
  } catch (...) {  // no more threads: go on with those there are
  }
  work();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  if (stop() && next < n) cancel->check(what);
}

}  // namespace arca
