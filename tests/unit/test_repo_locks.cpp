// Locks in-process on the memory backend: the prune lock (acquire, conflict, stale takeover,
// release) and retention locks on recovery points (add, active, release, compliance refused).
#include <gtest/gtest.h>
#include <unistd.h>

#include <ctime>
#include <nlohmann/json.hpp>

#include "mem_repo.h"
#include "repo/locks.h"
#include "repo/object_names.h"
#include "repo/prune.h"
#include "test_util.h"
#include "util/error.h"

using namespace arca;
using namespace arca::testing;

TEST(PruneLock, AcquireConflictRelease) {
  MemRepo r;
  auto a = r.open();
  auto b = r.open();
  EXPECT_FALSE(prune_lock_holder(*a));
  {
    PruneLock held(*a);
    auto holder = prune_lock_holder(*b);
    ASSERT_TRUE(holder);
    EXPECT_EQ(holder->pid, getpid());
    try {
      PruneLock second(*b);
      FAIL() << "two prunes at once";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Conflict) << e.what();
      EXPECT_NE(std::string(e.what()).find("pid " + std::to_string(getpid())), std::string::npos) << e.what();
    }
  }
  EXPECT_FALSE(prune_lock_holder(*b)) << "released when its holder ends";
  PruneLock again(*b);
}

TEST(PruneLock, StaleLockOfADeadProcessOnThisHostIsTakenOver) {
  MemRepo r;
  std::shared_ptr<MemoryBackend> crashed;
  {
    auto a = r.open();
    PruneLock held(*a);
    // What a prune killed on this host leaves: its lock, naming a process that is gone.
    Bytes text = a->load_object(names::kPruneLock);
    auto j = nlohmann::json::parse(text.begin(), text.end());
    j["pid"] = dead_pid();
    std::string s = j.dump();
    a->backend().remove(names::kPruneLock);
    a->save_object(names::kPruneLock, as_view(s));
    crashed = r.mem->clone();
  }
  MemRepo after(crashed);
  auto b = after.open();
  ASSERT_TRUE(prune_lock_holder(*b));
  PruneLock taken(*b);  // no Conflict
  EXPECT_EQ(prune_lock_holder(*b)->pid, getpid());
}

TEST(RetentionLocks, AddActiveRelease) {
  MemRepo r;
  auto repo = r.open();
  Snapshot s = save_file_point(*repo, {noise(1000)});
  int64_t now = time(nullptr);
  SnapshotLock gov = add_lock(*repo, s.id, LockMode::Governance, now + 3600, "audit");
  SnapshotLock comp = add_lock(*repo, s.id, LockMode::Compliance, now + 3600, "law");
  SnapshotLock hold = add_lock(*repo, s.id, LockMode::LegalHold, 0, "case 7");
  auto all = load_locks(*repo);
  EXPECT_EQ(all.size(), 3u);
  EXPECT_EQ(active_locks(all, now)[s.id].size(), 3u);
  EXPECT_EQ(active_locks(all, now + 7200)[s.id].size(), 1u) << "only the legal hold outlasts its time";

  release_lock(*repo, gov, "done");
  release_lock(*repo, hold, "closed");
  try {
    release_lock(*repo, comp, "please");
    FAIL() << "a compliance lock was released";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Refused) << e.what();
  }
  try {
    release_lock(*repo, gov, "twice");
    FAIL() << "released twice";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage) << e.what();
  }
  auto after = active_locks(load_locks(*repo), now);
  ASSERT_EQ(after[s.id].size(), 1u);
  EXPECT_EQ(after[s.id][0].mode, LockMode::Compliance);
}

TEST(RetentionLocks, DamagedLockIsAnErrorNotUnlocked) {
  MemRepo r;
  auto repo = r.open();
  Snapshot s = save_file_point(*repo, {noise(1000)});
  SnapshotLock l = add_lock(*repo, s.id, LockMode::LegalHold, 0, "x");
  Bytes b = r.mem->get(lock_object_name(l));
  b[b.size() / 2] ^= 1;
  r.mem->overwrite_raw(lock_object_name(l), b);
  EXPECT_THROW(load_locks(*repo), Error);
}
