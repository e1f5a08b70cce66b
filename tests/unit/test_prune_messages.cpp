// What prune tells the operator when it cannot run or stops: "another prune is running" names
// --unlock only when the holder is not a live process on this host, and a cancelled prune says
// what it had already deleted.
#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>
#include <nlohmann/json.hpp>

#include "mem_repo.h"
#include "repo/object_names.h"
#include "repo/prune.h"
#include "test_util.h"
#include "util/error.h"
#include "util/job_context.h"

using namespace arca;
using namespace arca::testing;

namespace {

std::string conflict_message(Repository& repo) {
  try {
    PruneLock second(repo);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Conflict) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "two prunes at once";
  return {};
}

// Data and tree packs.
size_t count_packs(const MemRepo& r) {
  size_t n = 0;
  for (const auto* prefix : {&names::kDataPacksPrefix, &names::kMetaPacksPrefix})
    r.mem->list(*prefix, [&](const ObjectInfo&) { n++; });
  return n;
}

}  // namespace

TEST(PruneLockMessage, LiveHolderOnThisHostSaysRetry) {
  MemRepo r;
  auto a = r.open();
  auto b = r.open();
  PruneLock held(*a);  // this process: alive, same host
  std::string msg = conflict_message(*b);
  EXPECT_NE(msg.find("pid " + std::to_string(getpid())), std::string::npos) << msg;
  EXPECT_NE(msg.find("retry when it has ended"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("--unlock"), std::string::npos) << msg;
}

TEST(PruneLockMessage, HolderElsewhereOrGoneSuggestsUnlock) {
  MemRepo r;
  auto a = r.open();
  // A lock left by a process that is gone, written on another host (so it is not taken over).
  nlohmann::json j = {{"host", "elsewhere"},
                      {"domain", "another-host-domain"},
                      {"pid", dead_pid()},
                      {"started", "2026-01-01T00:00:00Z"},
                      {"exclusive", false}};
  std::string s = j.dump();
  a->save_object(names::kPruneLock, as_view(s));
  std::string msg = conflict_message(*a);
  EXPECT_NE(msg.find("host elsewhere"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'arca prune --unlock'"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("retry when it has ended"), std::string::npos) << msg;
}

// Packs of forgotten points, deleted at once (grace 0); the 3rd data pack removal is held, the
// prune cancelled, the removal let go: the message names exactly the packs that are gone.
TEST(PruneCancelMessage, StatesThePacksAlreadyDeleted) {
  MemRepo r;
  std::vector<Snapshot> points;
  {
    auto repo = r.open();
    for (int i = 0; i < 6; i++) points.push_back(save_file_point(*repo, {noise(300000)}));
    for (int i = 0; i < 5; i++) repo->backend().remove(names::snapshot(points[i].id));
  }
  size_t before = count_packs(r);
  FaultBackend* faults = nullptr;
  auto repo = r.open(&faults);
  int hold = faults->pause_on(BackendCall::Remove, 3, names::kDataPacksPrefix);
  CancelToken token;
  std::string msg;
  std::thread t([&] {
    PruneOptions o;
    o.grace_s = 0;
    o.threads = 1;
    o.cancel = &token;
    ProgressCounters p;
    try {
      prune_repository(*repo, o, p);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Cancelled) msg = e.what();
    }
  });
  ASSERT_TRUE(faults->wait_paused(hold));
  token.cancel();
  faults->release(hold);
  t.join();
  size_t deleted = before - count_packs(r);
  EXPECT_GE(deleted, 3u);  // the held one and those before it (data and tree packs)
  EXPECT_LT(deleted, 10u);
  EXPECT_NE(msg.find("prune cancelled after deleting " + std::to_string(deleted) + " packs ("), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("run prune again to finish"), std::string::npos) << msg;
  check_clean(*r.open());
}

TEST(PruneCancelMessage, SaysWhenNothingWasDeleted) {
  MemRepo r;
  auto repo = r.open();
  Snapshot s = save_file_point(*repo, {noise(300000)});
  repo->backend().remove(names::snapshot(s.id));
  size_t before = count_packs(r);
  CancelToken token;
  token.cancel();
  PruneOptions o;
  o.grace_s = 0;
  o.cancel = &token;
  ProgressCounters p;
  try {
    prune_repository(*repo, o, p);
    FAIL() << "not cancelled";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Cancelled);
    EXPECT_NE(std::string(e.what()).find("prune cancelled before deleting anything"), std::string::npos) << e.what();
  }
  EXPECT_EQ(count_packs(r), before);
}
