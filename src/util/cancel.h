// Helpers for code that takes an optional cancel token (`const CancelToken*`, null = not
// cancellable): a test, a check that throws, and waits that wake up on cancel. Long loops call
// check_cancel() at least once a second; blocking waits use these slices (≤ 100 ms).
#pragma once
#include <poll.h>

#include <chrono>
#include <thread>

#include "util/job_context.h"

namespace arca {

inline bool cancel_requested(const CancelToken* t) noexcept { return t && t->cancelled(); }

// Throws Error(Cancelled, "<what> cancelled") once cancelled; a no-op without a token.
inline void check_cancel(const CancelToken* t, const char* what) {
  if (t) t->check(what);
}

// The longest a cancellable wait blocks before it looks at the token again.
constexpr std::chrono::milliseconds kCancelSlice{100};

// Sleeps `d`, waking every kCancelSlice to look at the token; returns false (early) if cancelled.
template <typename Rep, typename Period>
bool sleep_unless_cancelled(std::chrono::duration<Rep, Period> d, const CancelToken* t) {
  auto until = std::chrono::steady_clock::now() + d;
  while (!cancel_requested(t)) {
    auto now = std::chrono::steady_clock::now();
    if (now >= until) return true;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(until - now, kCancelSlice));
  }
  return false;
}

// Waits until `fd` is readable (data, end of file or an error: the read that follows says
// which), looking at the token every kCancelSlice; throws Error(Cancelled) once it is set.
// Without a token it returns at once (the read blocks as before).
inline void await_readable(int fd, const CancelToken* t, const char* what) {
  if (!t) return;
  while (true) {
    t->check(what);
    pollfd p{fd, POLLIN, 0};
    int n = poll(&p, 1, int(kCancelSlice.count()));
    if (n != 0) return;  // ready, or poll failed (EINTR included): the read decides
  }
}

}  // namespace arca
