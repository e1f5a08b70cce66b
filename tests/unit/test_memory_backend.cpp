// The in-memory backend: the conformance suite, plus its simulated Object Lock.
#include <ctime>

#include "backend_conformance.h"
#include "storage/memory_backend.h"
#include "util/error.h"

using namespace arca;

INSTANTIATE_TEST_SUITE_P(Memory, BackendConformance,
                         ::testing::Values(BackendFactory{"memory",
                                                          [](const BackendOptions&) -> std::unique_ptr<Backend> {
                                                            return std::make_unique<MemoryBackend>();
                                                          }}),
                         [](const auto& info) { return info.param.name; });

TEST(MemoryBackend, ExistsOnlyOnceCreated) {
  MemoryBackend b;
  EXPECT_FALSE(b.exists());
  b.create();
  EXPECT_TRUE(b.exists());
}

TEST(MemoryBackend, WithoutObjectLockLockingIsAUsageError) {
  MemoryBackend b;
  b.put("snapshots/a", as_view("x"));
  EXPECT_FALSE(b.supports_object_lock());
  try {
    b.lock_object("snapshots/a", StoreLock{StoreLock::Mode::Compliance, time(nullptr) + 60});
    FAIL() << "a store without Object Lock cannot lock";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
  }
}

TEST(MemoryBackend, ObjectLockRefusesDeleteAndReplaceUntilItExpires) {
  MemoryBackend b(MemoryBackend::Options{.object_lock = true});
  b.put("snapshots/a", as_view("x"));
  b.put("snapshots/b", as_view("y"));
  b.put("snapshots/c", as_view("z"));
  b.lock_object("snapshots/a", StoreLock{StoreLock::Mode::Compliance, time(nullptr) + 3600});
  b.lock_object("snapshots/b", StoreLock{StoreLock::Mode::LegalHold, 0});
  b.lock_object("snapshots/c", StoreLock{StoreLock::Mode::Governance, time(nullptr) - 1});  // expired
  for (const char* n : {"snapshots/a", "snapshots/b"}) {
    try {
      b.remove(n);
      FAIL() << n << " is locked";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Refused);
      EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
    }
    EXPECT_THROW(b.put(n, as_view("new")), Error);
    EXPECT_TRUE(b.stat(n));
  }
  b.remove("snapshots/c");
  EXPECT_FALSE(b.stat("snapshots/c"));
  EXPECT_EQ(b.store_lock("snapshots/b")->mode, StoreLock::Mode::LegalHold);
  EXPECT_THROW(b.lock_object("snapshots/none", StoreLock{}), Error);
}
