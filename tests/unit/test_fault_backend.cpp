// The fault-injecting backend: conformance without rules, then each kind of rule.
#include <atomic>
#include <ctime>
#include <thread>

#include "backend_conformance.h"
#include "storage/fault_backend.h"
#include "storage/memory_backend.h"
#include "test_util.h"
#include "util/error.h"

using namespace arca;
using arca::testing::kind_of;

INSTANTIATE_TEST_SUITE_P(Fault, BackendConformance,
                         ::testing::Values(BackendFactory{"fault_over_memory",
                                                          [](const BackendOptions&) -> std::unique_ptr<Backend> {
                                                            return std::make_unique<FaultBackend>(
                                                                std::make_shared<MemoryBackend>());
                                                          }}),
                         [](const auto& info) { return info.param.name; });

namespace {

struct Fixture {
  std::shared_ptr<MemoryBackend> mem = std::make_shared<MemoryBackend>();
  FaultBackend fb{mem};
};

}  // namespace

TEST(FaultBackend, FailsTheNthCallOfAKindOnly) {
  Fixture f;
  f.fb.fail_on(BackendCall::Put, 3, ErrorKind::NoSpace);
  f.fb.put("a", as_view("1"));
  f.fb.put("b", as_view("2"));
  EXPECT_EQ(kind_of([&] { f.fb.put("c", as_view("3")); }), ErrorKind::NoSpace);
  EXPECT_FALSE(f.mem->stat("c")) << "a call failed before it reached the store stores nothing";
  f.fb.put("d", as_view("4"));  // the 4th passes
  EXPECT_EQ(f.fb.calls(BackendCall::Put), 4u);
  EXPECT_EQ(f.fb.calls(BackendCall::Get), 0u);
  EXPECT_EQ(as_string(f.fb.get("a")), "1");
  EXPECT_EQ(f.fb.calls(BackendCall::Get), 1u);
  EXPECT_EQ(f.fb.calls(BackendCall::Any), 5u);
}

TEST(FaultBackend, PrefixRestrictsWhichNamesCount) {
  Fixture f;
  f.fb.fail_on(BackendCall::Get, 2, ErrorKind::Unreachable, "index/");
  f.mem->put("index/1", as_view("x"));
  f.mem->put("data/1", as_view("y"));
  f.fb.get("data/1");
  f.fb.get("index/1");
  f.fb.get("data/1");
  EXPECT_EQ(kind_of([&] { f.fb.get("index/1"); }), ErrorKind::Unreachable);
  f.fb.get("index/1");
}

TEST(FaultBackend, CrashFailsEveryLaterCallOfAnyKind) {
  Fixture f;
  f.fb.crash_at(BackendCall::Any, 2);
  f.fb.put("a", as_view("1"));
  EXPECT_EQ(kind_of([&] { f.fb.get("a"); }), ErrorKind::Io);
  EXPECT_EQ(kind_of([&] { f.fb.remove("a"); }), ErrorKind::Io);
  EXPECT_EQ(kind_of([&] { f.fb.list("", [](const ObjectInfo&) {}); }), ErrorKind::Io);
  EXPECT_TRUE(f.mem->stat("a")) << "nothing after the crash reached the store";
  f.fb.clear_rules();
  f.fb.remove("a");
  EXPECT_FALSE(f.mem->stat("a"));
}

TEST(FaultBackend, AfterCallFailureLandsTheWriteButLosesTheAnswer) {
  Fixture f;
  FaultRule r;
  r.call = BackendCall::PutIfAbsent;
  r.after_call = true;
  f.fb.add_rule(r);
  EXPECT_EQ(kind_of([&] { f.fb.put_if_absent("k", as_view("v")); }), ErrorKind::Io);
  EXPECT_EQ(as_string(f.mem->get("k")), "v");
}

TEST(FaultBackend, PauseHoldsTheCallUntilReleased) {
  Fixture f;
  int id = f.fb.pause_on(BackendCall::Remove, 1, "data/");
  f.mem->put("data/x", as_view("x"));
  std::atomic<bool> done{false};
  std::thread t([&] {
    f.fb.remove("data/x");
    done = true;
  });
  ASSERT_TRUE(f.fb.wait_paused(id));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(done);
  EXPECT_TRUE(f.mem->stat("data/x")) << "a held call has not reached the store";
  f.fb.put("other", as_view("y"));  // other calls go on meanwhile
  f.fb.release(id);
  t.join();
  EXPECT_TRUE(done);
  EXPECT_FALSE(f.mem->stat("data/x"));
  f.mem->put("data/y", as_view("y"));
  f.fb.remove("data/y");  // a released pause does not hold again
}

TEST(FaultBackend, PauseTimesOutWhenNoCallArrives) {
  Fixture f;
  int id = f.fb.pause_on(BackendCall::Get, 1);
  EXPECT_FALSE(f.fb.wait_paused(id, 20));
}

TEST(FaultBackend, SleepDelaysEachMatchingCall) {
  Fixture f;
  f.fb.sleep_on_each(BackendCall::Stat, 30);
  auto t0 = std::chrono::steady_clock::now();
  f.fb.stat("a");
  f.fb.stat("b");
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(60));
}

TEST(FaultBackend, SimulatedObjectLockRefusesRemovalUntilRetainUntil) {
  Fixture f;
  f.mem->put("snapshots/a", as_view("x"));
  f.mem->put("keys/k", as_view("y"));
  f.fb.protect("snapshots/", time(nullptr) + 3600);
  f.fb.protect("locks/", time(nullptr) - 1);  // expired: no protection
  EXPECT_EQ(kind_of([&] { f.fb.remove("snapshots/a"); }), ErrorKind::Refused);
  EXPECT_EQ(kind_of([&] { f.fb.put("snapshots/a", as_view("z")); }), ErrorKind::Refused);
  f.fb.remove("keys/k");
  f.mem->put("locks/l", as_view("l"));
  f.fb.remove("locks/l");
  EXPECT_TRUE(f.mem->stat("snapshots/a"));
  f.fb.unprotect();
  f.fb.remove("snapshots/a");
  EXPECT_FALSE(f.mem->stat("snapshots/a"));
}
