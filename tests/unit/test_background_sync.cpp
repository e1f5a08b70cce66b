#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "util/background_sync.h"

using namespace arca;
using namespace std::chrono_literals;

namespace {
// Waits up to 5 s for pred.
template <class F>
bool eventually(F pred) {
  for (int i = 0; i < 500; i++) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}
}  // namespace

TEST(BackgroundSync, FlushesAfterEachThresholdAndNeverTwiceAtOnce) {
  std::atomic<int> calls{0}, running{0}, overlapped{0};
  {
    BackgroundSync sync(
        [&] {
          if (running++ > 0) overlapped++;
          std::this_thread::sleep_for(20ms);  // a slow disk: writers go on meanwhile
          calls++;
          running--;
        },
        1000);
    sync.wrote(999);
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(calls, 0) << "flushed before 1000 bytes were written";
    sync.wrote(1);
    EXPECT_TRUE(eventually([&] { return calls == 1; })) << "crossing the threshold did not flush";
    // Four writers cross 20 thresholds while flushes take 20 ms each: some wake-ups find a flush
    // running; what they wrote is flushed by the next one, none at the same time.
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; w++)
      writers.emplace_back([&] {
        for (int i = 0; i < 50; i++) {
          sync.wrote(100);
          std::this_thread::sleep_for(1ms);
        }
      });
    for (auto& t : writers) t.join();
    EXPECT_TRUE(eventually([&] { return calls >= 2 && running == 0; }));
    int before = calls;
    std::this_thread::sleep_for(100ms);
    EXPECT_LE(calls - before, 1) << "flushes went on without new writes";
  }
  EXPECT_EQ(overlapped, 0);
  EXPECT_EQ(running, 0) << "destroyed while a flush was still running";
}

TEST(BackgroundSync, StopsWhenDestroyedAndIsInertWithoutAFlush) {
  std::atomic<int> calls{0};
  auto started = std::chrono::steady_clock::now();
  {
    BackgroundSync sync([&] { calls++; }, 1 << 20);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s) << "the destructor waited for a flush that was never due";
  EXPECT_EQ(calls, 0);
  {
    BackgroundSync off([&] { calls++; }, 0);  // 0: never flush
    off.wrote(uint64_t(1) << 40);
  }
  EXPECT_EQ(calls, 0);
  BackgroundSync none(std::function<void()>(), 1);  // nothing to flush through (no target)
  none.wrote(100);                                  // nothing happens, nothing crashes
}
