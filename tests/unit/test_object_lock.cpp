// Store-enforced locks in-process, on a memory backend with Object Lock: a locked recovery
// point's objects are locked in the store, which then refuses to delete them; a store without
// Object Lock is refused when the lock is required, and noted otherwise.
#include <gtest/gtest.h>

#include <ctime>

#include "mem_repo.h"
#include "repo/locks.h"
#include "repo/object_lock.h"
#include "repo/object_names.h"
#include "repo/prune.h"
#include "util/error.h"

using namespace arca;
using namespace arca::testing;

TEST(ObjectLock, LocksEveryObjectThePointNeedsAndTheStoreKeepsThem) {
  MemRepo r(small_repo_options(), MemoryBackend::Options{.object_lock = true});
  auto repo = r.open();
  Snapshot s = save_file_point(*repo, {noise(60000), noise(60000)});
  Snapshot other = save_file_point(*repo, {noise(1000)});
  int64_t until = time(nullptr) + 3600;
  SnapshotLock l = add_lock(*repo, s.id, LockMode::Compliance, until, "audit");
  StoreLockResult res = apply_store_lock(*repo, s, l, true);
  EXPECT_GE(res.objects, 4u);  // snapshot, lock, packs, index, config, keyring

  for (const std::string& n : {names::snapshot(s.id), lock_object_name(l), names::kConfig}) {
    auto sl = r.mem->store_lock(n);
    ASSERT_TRUE(sl) << n << " is not locked in the store";
    EXPECT_EQ(sl->mode, StoreLock::Mode::Compliance);
    EXPECT_EQ(sl->until_unix, until);
    try {
      repo->backend().remove(n);
      FAIL() << "the store deleted locked " << n;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Refused) << e.what();
    }
  }
  size_t locked_packs = 0;
  r.mem->list(names::kDataPacksPrefix, [&](const ObjectInfo& o) { locked_packs += r.mem->store_lock(o.name) ? 1 : 0; });
  EXPECT_GE(locked_packs, 1u);
  EXPECT_FALSE(r.mem->store_lock(names::snapshot(other.id))) << "an unlocked point stays unlocked";
  r.mem->list(names::kKeysPrefix,
              [&](const ObjectInfo& o) { EXPECT_FALSE(r.mem->store_lock(o.name)) << "key files stay removable"; });
  repo->backend().remove(names::snapshot(other.id));
}

TEST(ObjectLock, StoreWithoutObjectLockRefusedWhenRequiredNotedOtherwise) {
  MemRepo r;
  auto repo = r.open();
  Snapshot s = save_file_point(*repo, {noise(1000)});
  SnapshotLock l = add_lock(*repo, s.id, LockMode::Governance, time(nullptr) + 60, "");
  try {
    apply_store_lock(*repo, s, l, true);
    FAIL() << "a required store lock on a store without Object Lock";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage) << e.what();
  }
  StoreLockResult res = apply_store_lock(*repo, s, l, false);
  EXPECT_EQ(res.objects, 0u);
  EXPECT_FALSE(res.note.empty());
}

// The fault backend's simulated Object Lock on an ordinary store: prune's deletions are refused
// for protected packs, and the repository stays sound.
TEST(ObjectLock, SimulatedLockOnPacksKeepsThemThroughPrune) {
  MemRepo r;
  auto repo = r.open();
  Bytes x = noise(50000);
  Snapshot s = save_file_point(*repo, {x});
  repo->backend().remove(names::snapshot(s.id));
  FaultBackend* f;
  auto pruning = r.open(&f);
  f->protect(names::kDataPacksPrefix, time(nullptr) + 3600);
  EXPECT_THROW(
      {
        PruneOptions o;
        o.grace_s = 0;
        ProgressCounters p;
        prune_repository(*pruning, o, p);
      },
      Error);
  size_t packs = 0;
  r.mem->list(names::kDataPacksPrefix, [&](const ObjectInfo&) { packs++; });
  EXPECT_EQ(packs, 1u);
  EXPECT_TRUE(check_clean(*r.open(), "after a refused deletion"));
}
