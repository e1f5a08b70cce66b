// Prune under faults at the storage seam (in place of the e2e scripts that paced prune with an
// environment variable and killed it): a prune that dies at any backend call leaves a
// repository that passes check, whose recovery points all read back, and that the next prune
// finishes; an immediate prune (grace 0) held mid-way keeps backups from starting, and a backup
// held mid-way keeps it from starting.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "mem_repo.h"
#include "repo/object_names.h"
#include "repo/prune.h"
#include "util/error.h"

using namespace arca;
using namespace arca::testing;

namespace {

struct Point {
  Snapshot snap;
  Bytes content;
};

PruneStats run_prune(Repository& repo, int64_t grace_s, double max_unused = 0.1) {
  PruneOptions o;
  o.grace_s = grace_s;
  o.max_unused = max_unused;
  o.threads = 1;  // one call order: a failing call number means the same moment every run
  ProgressCounters p;
  return prune_repository(repo, o, p);
}

std::vector<std::string> snapshot_ids(Repository& repo) {
  std::vector<std::string> ids;
  for (const auto& s : repo.list_snapshots()) ids.push_back(s.id.hex());
  std::sort(ids.begin(), ids.end());
  return ids;
}

// Days of backups of a file whose chunks rotate (each day drops the oldest, adds a new one),
// most of them forgotten, and one earlier prune's marks: what a crashing prune finds to
// repack, delete, re-index and re-mark.
std::vector<Point> grow_history(const MemRepo& r) {
  auto repo = r.open();
  std::vector<Bytes> chunks;
  std::vector<Point> points;
  for (int day = 0; day < 10; day++) {
    chunks.push_back(noise(40000));
    if (chunks.size() > 3) chunks.erase(chunks.begin());
    points.push_back({save_file_point(*repo, chunks), concat(chunks)});
  }
  auto forget = [&](size_t keep) {
    while (points.size() > keep) {
      repo->backend().remove(names::snapshot(points.front().snap.id));
      points.erase(points.begin());
    }
  };
  forget(6);
  run_prune(*r.open(), 3600);  // marks (and repacks) with a grace period
  forget(3);
  return points;
}

void expect_points_read_back(Repository& repo, const std::vector<Point>& points, const std::string& context) {
  for (const auto& p : points) {
    Bytes got;
    try {
      got = read_file_point(repo, repo.find_snapshot(p.snap.id.hex()));
    } catch (const std::exception& e) {
      ADD_FAILURE() << context << ": point " << p.snap.id.short_hex() << ": " << e.what();
      continue;
    }
    EXPECT_TRUE(got == p.content) << context << ": point " << p.snap.id.short_hex() << " reads back different bytes";
  }
}

}  // namespace

// Every call number from the first to the last: the prune dies there (that call and every later
// one fail, as if the process were killed), and the state it leaves must be sound.
TEST(PruneFaults, DyingAtAnyBackendCallLeavesARepositoryTheNextPruneFinishes) {
  MemRepo base;
  std::vector<Point> points = grow_history(base);
  std::vector<std::string> ids = snapshot_ids(*base.open());

  uint64_t total;
  {
    MemRepo dry(base.mem->clone());
    FaultBackend* f;
    auto repo = dry.open(&f);
    f->reset_counts();
    auto stats = run_prune(*repo, 0);
    ASSERT_GT(stats.deleted_packs, 0u) << "the scenario must delete packs";
    ASSERT_GT(stats.index_files_written, 0u) << "the scenario must rewrite the index";
    total = f->calls(BackendCall::Any);
  }
  ASSERT_GT(total, 10u);

  for (uint64_t n = 1; n <= total; n++) {
    std::string context = "prune died at backend call " + std::to_string(n) + " of " + std::to_string(total);
    MemRepo r(base.mem->clone());
    {
      FaultBackend* f;
      auto repo = r.open(&f);
      f->crash_at(BackendCall::Any, n);
      EXPECT_THROW(run_prune(*repo, 0), Error) << context;
    }
    auto after = r.open();
    if (!check_clean(*after, context)) break;  // one report is enough
    EXPECT_EQ(snapshot_ids(*after), ids) << context;
    expect_points_read_back(*after, points, context);
    run_prune(*after, 0);
    auto last = r.open();
    ASSERT_TRUE(check_clean(*last, context + ", then a full prune")) << context;
    expect_points_read_back(*last, points, context + ", then a full prune");
    EXPECT_EQ(run_prune(*last, 0).deleted_packs, 0u) << context << ": the finishing prune left garbage";
    if (::testing::Test::HasFailure()) break;
  }
}

// A store that refuses every deletion (Object Lock on everything) stops prune with the store's
// error; what it wrote before that leaves a sound repository.
TEST(PruneFaults, StoreRefusingDeletionsStopsPruneSafely) {
  MemRepo base;
  std::vector<Point> points = grow_history(base);
  {
    FaultBackend* f;
    auto repo = base.open(&f);
    f->protect("");
    try {
      run_prune(*repo, 0);
      FAIL() << "prune went on although the store refused deletions";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Refused) << e.what();
    }
  }
  auto after = base.open();
  EXPECT_TRUE(check_clean(*after, "after refused deletions"));
  expect_points_read_back(*after, points, "after refused deletions");
}

// `prune --grace 0` held between two deletions: a backup that tries to start meanwhile is
// refused (it could reuse what is being deleted); once the prune ends, backups work again.
TEST(PruneFaults, BackupCannotStartWhileAnImmediatePruneRuns) {
  MemRepo r;
  std::vector<Point> points = grow_history(r);
  FaultBackend* f;
  auto pruning = r.open(&f);
  int held = f->pause_on(BackendCall::Remove, 1, names::kDataPacksPrefix);
  std::exception_ptr prune_error;
  std::thread prune([&] {
    try {
      PruneLock lock(*pruning, true);
      run_prune(*pruning, 0);
    } catch (...) {
      prune_error = std::current_exception();
    }
  });
  ASSERT_TRUE(f->wait_paused(held)) << "prune never reached its first pack deletion";
  {
    auto backup = r.open();
    try {
      BlobWriter w(*backup);
      ADD_FAILURE() << "a backup started while prune --grace 0 was deleting";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Conflict);
      EXPECT_NE(std::string(e.what()).find("a prune that deletes at once"), std::string::npos) << e.what();
    }
  }
  f->release(held);
  prune.join();
  if (prune_error) std::rethrow_exception(prune_error);
  auto after = r.open();
  EXPECT_TRUE(check_clean(*after, "after the immediate prune"));
  expect_points_read_back(*after, points, "after the immediate prune");
  Bytes fresh = noise(50000);
  Snapshot s = save_file_point(*after, {fresh});  // a backup now starts and publishes
  EXPECT_TRUE(read_file_point(*r.open(), s) == fresh);
}

// The other order: a backup held while uploading a pack; `prune --grace 0` is refused while it
// runs, and the backup's recovery point, once published, passes check and reads back.
TEST(PruneFaults, ImmediatePruneCannotStartWhileABackupRuns) {
  MemRepo r;
  std::vector<Point> points = grow_history(r);
  FaultBackend* f;
  auto backing_up = r.open(&f);
  int held = f->pause_on(BackendCall::PutFile, 1, names::kDataPacksPrefix);
  std::vector<Bytes> chunks;
  for (int i = 0; i < 10; i++) chunks.push_back(noise(60000));  // more than one data pack
  Snapshot saved;
  std::exception_ptr backup_error;
  std::thread backup([&] {
    try {
      saved = save_file_point(*backing_up, chunks);
    } catch (...) {
      backup_error = std::current_exception();
    }
  });
  ASSERT_TRUE(f->wait_paused(held)) << "the backup never uploaded a pack";
  {
    auto pruning = r.open();
    try {
      PruneLock lock(*pruning, true);
      ADD_FAILURE() << "prune --grace 0 started while a backup was writing";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Conflict) << e.what();
    }
    PruneLock ordinary(*pruning, false);  // a prune with a grace period may run alongside
    run_prune(*pruning, 3600);
  }
  f->release(held);
  backup.join();
  if (backup_error) std::rethrow_exception(backup_error);
  auto after = r.open();
  EXPECT_TRUE(check_clean(*after, "after the backup"));
  expect_points_read_back(*after, points, "after the backup");
  EXPECT_TRUE(read_file_point(*after, saved) == concat(chunks));
}
