// Prune's safety rules on a real local repository: marks, the grace period, rescue of packs a
// late recovery point needs, repacking, and refusing to work from a damaged view.
#include <gtest/gtest.h>

#include <filesystem>

#include "mem_repo.h"
#include "repo/blob_writer.h"
#include "repo/check.h"
#include "repo/config.h"
#include "repo/prune.h"
#include "repo/prune_marks.h"
#include "test_util.h"
#include "util/clock.h"
#include "util/error.h"

using namespace arca;
using arca::testing::check_clean;
using arca::testing::noise;
using arca::testing::save_file_point;

namespace {

PruneStats prune(const std::string& path, int64_t grace_s, double max_unused = 0.25) {
  auto repo = open_test_repo(path);
  PruneOptions o;
  o.grace_s = grace_s;
  o.max_unused = max_unused;
  ProgressCounters p;
  return prune_repository(*repo, o, p);
}

size_t count_objects(const std::string& dir) {
  size_t n = 0;
  if (!std::filesystem::exists(dir)) return 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

}  // namespace

TEST(Prune, MarksFirstAndDeletesOnlyAfterTheGracePeriod) {
  TempDir d;
  auto repo = make_test_repo(d.path);
  Bytes x = noise(100000), y = noise(100000);
  Snapshot a = save_file_point(*repo, {x});
  Snapshot b = save_file_point(*repo, {y});
  repo->backend().remove("snapshots/" + a.id.hex());

  auto s1 = prune(d.path, 3600);
  EXPECT_EQ(s1.deleted_packs, 0u);
  EXPECT_GE(s1.marked_packs, 2u);  // a's data pack and tree pack
  EXPECT_EQ(load_prune_marks(*open_test_repo(d.path)).size(), 1u);

  auto s2 = prune(d.path, 3600);  // too early: the packs wait
  EXPECT_EQ(s2.deleted_packs, 0u);
  EXPECT_EQ(s2.waiting_packs, s1.marked_packs);

  auto s3 = prune(d.path, 0);  // grace over (0: now)
  EXPECT_EQ(s3.deleted_packs, s1.marked_packs);
  EXPECT_TRUE(load_prune_marks(*open_test_repo(d.path)).empty());
  EXPECT_TRUE(check_clean(*open_test_repo(d.path)));
  auto r = open_test_repo(d.path);
  EXPECT_EQ(r->read_blob(repo->blob_id(y)), y);
  EXPECT_FALSE(r->index().has(repo->blob_id(x)));
}

TEST(Prune, BackupThatStartedBeforeTheMarkRescuesThePack) {
  TempDir d;
  auto repo = make_test_repo(d.path);
  Bytes x = noise(100000);
  Snapshot a = save_file_point(*repo, {x});
  // A backup starts: it has read the index, and will reuse x.
  auto early = open_test_repo(d.path);
  BlobWriter early_writer(*early);
  ASSERT_TRUE(early_writer.known(repo->blob_id(x)));
  // Meanwhile a is forgotten and a prune marks x's pack.
  repo->backend().remove("snapshots/" + a.id.hex());
  EXPECT_GE(prune(d.path, 3600).marked_packs, 1u);
  // The early backup finishes, referencing x without storing it again.
  Snapshot late = save_file_point(*early, {x}, &early_writer);
  EXPECT_EQ(early_writer.blobs_added(), 0u);  // x and the (identical) tree are both reused
  // After the grace period the pack is needed again: kept, and taken out of the marks.
  auto s = prune(d.path, 0);
  EXPECT_GE(s.rescued_packs, 1u);
  EXPECT_EQ(open_test_repo(d.path)->read_blob(repo->blob_id(x)), x);
  EXPECT_TRUE(check_clean(*open_test_repo(d.path)));
  // Rescued packs can be deduplicated against again.
  auto fresh = open_test_repo(d.path);
  BlobWriter w(*fresh);
  EXPECT_TRUE(w.known(repo->blob_id(x)));
}

TEST(Prune, BackupsAfterTheMarkDoNotDeduplicateAgainstMarkedPacks) {
  TempDir d;
  auto repo = make_test_repo(d.path);
  Bytes x = noise(100000);
  Snapshot a = save_file_point(*repo, {x});
  repo->backend().remove("snapshots/" + a.id.hex());
  prune(d.path, 3600);
  auto later = open_test_repo(d.path);
  BlobWriter w(*later);
  EXPECT_FALSE(w.known(repo->blob_id(x)));
  save_file_point(*later, {x}, &w);
  EXPECT_EQ(w.blobs_added(), 2u);  // x stored again, and the tree
  auto s = prune(d.path, 0);       // the marked originals go; the new copy stays
  EXPECT_GE(s.deleted_packs, 1u);
  EXPECT_EQ(open_test_repo(d.path)->read_blob(repo->blob_id(x)), x);
  EXPECT_TRUE(check_clean(*open_test_repo(d.path)));
}

TEST(Prune, RepacksMostlyUnusedPacks) {
  TempDir d;
  auto repo = make_test_repo(d.path);
  Bytes x = noise(300000), y = noise(300000), z = noise(300000);
  Snapshot a = save_file_point(*repo, {x, y, z});  // one data pack with three blobs
  Snapshot b =
      save_file_point(*open_test_repo(d.path), {y});  // a fresh view of the index: y is reused, not stored twice
  repo->backend().remove("snapshots/" + a.id.hex());
  auto s = prune(d.path, 0, 0.5);
  EXPECT_EQ(s.repacked_packs, 1u);
  EXPECT_EQ(s.copied_blobs, 1u);
  EXPECT_LT(s.stored_bytes_after, s.stored_bytes_before - 500000);
  auto r = open_test_repo(d.path);
  EXPECT_EQ(r->read_blob(repo->blob_id(y)), y);
  EXPECT_FALSE(r->index().has(repo->blob_id(x)));
  EXPECT_TRUE(check_clean(*open_test_repo(d.path)));
  // Below the threshold nothing is repacked.
  EXPECT_EQ(prune(d.path, 0, 0.5).repacked_packs, 0u);
}

TEST(Prune, DamagedSnapshotStopsPruneBeforeAnyDeletion) {
  TempDir d;
  auto repo = make_test_repo(d.path);
  Snapshot a = save_file_point(*repo, {noise(100000)});
  Snapshot b = save_file_point(*repo, {noise(100000)});
  std::string name = d.path + "/snapshots/" + b.id.hex();
  std::filesystem::permissions(name, std::filesystem::perms::owner_write, std::filesystem::perm_options::add);
  {
    // Flipped, not overwritten: the byte there is random ciphertext, 'X' one time in 256.
    FILE* f = fopen(name.c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    fseek(f, 40, SEEK_SET);
    int c = fgetc(f);
    fseek(f, 40, SEEK_SET);
    fputc(c ^ 1, f);
    fclose(f);
  }
  size_t packs = count_objects(d.path + "/data") + count_objects(d.path + "/meta");
  try {
    prune(d.path, 0);
    FAIL() << "prune went on with a damaged snapshot";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Corrupt);
  }
  EXPECT_EQ(count_objects(d.path + "/data") + count_objects(d.path + "/meta"), packs);
}

TEST(Prune, UnreadableMarkMeansNoPackIsTrustedForDeduplication) {
  TempDir d;
  auto repo = make_test_repo(d.path);
  Bytes x = noise(100000);
  save_file_point(*repo, {x});
  repo->backend().put_if_absent("prune/" + random_id().hex(), as_view(std::string("not a sealed object")));
  auto later = open_test_repo(d.path);
  std::vector<std::string> warnings;
  later->set_warning_handler([&](const std::string& w) { warnings.push_back(w); });
  BlobWriter w(*later);
  EXPECT_FALSE(w.known(repo->blob_id(x)));  // stored again rather than trusted
  EXPECT_EQ(warnings.size(), 1u);
  EXPECT_EQ(later->read_blob(repo->blob_id(x)), x);  // readers are unaffected
  try {
    prune(d.path, 0);
    FAIL() << "prune ran with a damaged mark";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Corrupt);
  }
}

TEST(Prune, SessionOutlivingTheGracePeriodRefusesToPublish) {
  TempDir d;
  auto repo = make_test_repo(d.path);
  Bytes x = noise(100000);
  Snapshot a = save_file_point(*repo, {x});
  auto early = open_test_repo(d.path);
  BlobWriter early_writer(*early);
  ASSERT_TRUE(early_writer.known(repo->blob_id(x)));
  repo->backend().remove("snapshots/" + a.id.hex());
  EXPECT_GE(prune(d.path, 1).marked_packs, 1u);  // a 1 s grace: over before the session ends
  try {
    save_file_point(*early, {x}, &early_writer);
    FAIL() << "a session that reused data past its prune's grace period published a recovery point";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("grace period is over"), std::string::npos) << e.what();
  }
  EXPECT_EQ(open_test_repo(d.path)->list_snapshots().size(), 0u);
}

TEST(Prune, ReuseOfRepackedBlobsIsSafeAfterTheGracePeriod) {
  TempDir d;
  auto repo = make_test_repo(d.path);
  Bytes x = noise(300000), y = noise(300000), z = noise(300000);
  Snapshot a = save_file_point(*repo, {x, y, z});
  Snapshot b = save_file_point(*open_test_repo(d.path), {y});
  auto early = open_test_repo(d.path);
  BlobWriter early_writer(*early);
  ASSERT_TRUE(early_writer.known(repo->blob_id(y)));
  repo->backend().remove("snapshots/" + a.id.hex());
  EXPECT_EQ(prune(d.path, 1, 0.5).repacked_packs, 1u);          // y copied to a new pack, the old one marked
  Snapshot late = save_file_point(*early, {y}, &early_writer);  // y has a copy outside marked packs
  EXPECT_EQ(open_test_repo(d.path)->read_blob(repo->blob_id(y)), y);
}

// Two backups of the same data at the same time each store it (neither sees the other's packs):
// prune keeps one copy and reclaims the other (issue 17 A10).
TEST(Prune, DuplicateCopiesFromConcurrentSessionsAreReclaimed) {
  TempDir d;
  auto repo = make_test_repo(d.path);
  Bytes x = noise(300000), y = noise(300000);
  auto r1 = open_test_repo(d.path), r2 = open_test_repo(d.path);
  BlobWriter w1(*r1), w2(*r2);
  save_file_point(*r1, {x, y}, &w1);
  save_file_point(*r2, {x, y}, &w2);
  ASSERT_EQ(w2.blobs_added(), 3u);  // x, y and the tree stored twice
  auto s1 = prune(d.path, 3600, 0.01);
  EXPECT_GE(s1.marked_packs, 2u);  // one data pack and one tree pack are duplicates
  auto s2 = prune(d.path, 0, 0.01);
  EXPECT_EQ(s2.deleted_packs, s1.marked_packs);
  EXPECT_LT(s2.stored_bytes_after, s1.stored_bytes_before * 6 / 10);
  EXPECT_TRUE(check_clean(*open_test_repo(d.path)));
  auto r = open_test_repo(d.path);
  EXPECT_EQ(r->read_blob(repo->blob_id(x)), x);
  EXPECT_EQ(r->read_blob(repo->blob_id(y)), y);
  EXPECT_EQ(prune(d.path, 0, 0.01).deleted_packs, 0u);  // nothing left to reclaim
}

// A pack holding a duplicate and a blob only it has is repacked: the unique blob is copied.
TEST(Prune, PartlyDuplicatedPacksAreRepacked) {
  TempDir d;
  auto repo = make_test_repo(d.path);
  Bytes x = noise(300000), y = noise(300000), z = noise(30000);
  auto r1 = open_test_repo(d.path), r2 = open_test_repo(d.path);
  BlobWriter w1(*r1), w2(*r2);
  save_file_point(*r1, {x, y}, &w1);
  save_file_point(*r2, {x, y, z}, &w2);
  auto s = prune(d.path, 0, 0.25);
  EXPECT_GE(s.repacked_packs + s.deleted_packs, 1u);
  EXPECT_LT(s.stored_bytes_after, s.stored_bytes_before * 7 / 10);
  EXPECT_TRUE(check_clean(*open_test_repo(d.path)));
  auto r = open_test_repo(d.path);
  EXPECT_EQ(r->read_blob(repo->blob_id(z)), z);
  EXPECT_EQ(r->read_blob(repo->blob_id(x)), x);
}

// Every copy of a duplicated blob is verified, not only up to the first intact one: a damaged
// copy in a pack that is otherwise kept whole makes prune repack that pack, so that no index
// lists the damaged copy afterwards (it failed e2e_test_duplicates 1 run in 4 before).
TEST(Prune, ADamagedSecondCopyInAPackKeptWholeIsRepackedAway) {
  TempDir d;
  auto repo = make_test_repo(d.path);
  Bytes x = noise(300000), y = noise(300000), u = noise(2000000), z = noise(2000000);
  auto r1 = open_test_repo(d.path), r2 = open_test_repo(d.path);
  BlobWriter w1(*r1), w2(*r2);
  save_file_point(*r1, {x, y, u}, &w1);  // one data pack each, both holding x and y
  save_file_point(*r2, {x, y, z}, &w2);
  auto fresh = open_test_repo(d.path);
  auto copies = fresh->index().copies(fresh->blob_id(x));
  ASSERT_EQ(copies.size(), 2u);
  // The copy in the pack with the larger name: prune ranks the other pack first (equal needs).
  const BlobLocation& second = copies[0].pack.hex() > copies[1].pack.hex() ? copies[0] : copies[1];
  std::string name = pack_name(second.type, second.pack);
  Bytes pack = fresh->backend().get(name);
  pack[second.offset + second.length / 2] ^= 1;
  fresh->backend().put(name, pack);
  prune(d.path, 0, 0.5);  // 0.5: unused x and y alone would not make that pack worth repacking
  auto after = open_test_repo(d.path);
  EXPECT_TRUE(check_clean(*after));
  EXPECT_EQ(after->read_blob(repo->blob_id(x)), x);
}

// `prune --grace 0` and backups exclude each other (issue 17 A4).
TEST(Prune, ImmediatePruneAndBackupsExcludeEachOther) {
  TempDir d;
  auto repo = make_test_repo(d.path);
  {
    auto r = open_test_repo(d.path);
    BlobWriter running(*r);
    try {
      PruneLock lock(*repo, true);
      FAIL() << "an exclusive prune started while a backup was writing";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Conflict);
    }
    PruneLock ordinary(*repo, false);  // with a grace period prune runs alongside backups
  }
  {
    PruneLock lock(*repo, true);  // the backup has ended: its registration is gone
    auto r = open_test_repo(d.path);
    try {
      BlobWriter w(*r);
      FAIL() << "a backup started while an exclusive prune was running";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Conflict);
    }
  }
  BlobWriter after(*repo);  // and it leaves no registration behind
}

// A session's own packs are garbage to a prune until its recovery point exists: if one was
// marked and the grace period is over, the point must not be published.
TEST(Prune, SessionWhoseOwnPacksWereMarkedRefusesToPublish) {
  TempDir d;
  auto repo = make_test_repo(d.path);
  auto r = open_test_repo(d.path);
  BlobWriter w(*r);
  Bytes x = noise(100000);
  w.add(BlobType::Data, repo->blob_id(x), x);
  w.checkpoint();                                // the pack is stored and indexed, no point yet
  EXPECT_GE(prune(d.path, 1).marked_packs, 1u);  // a 1 s grace: over before the session ends
  try {
    save_file_point(*r, {x}, &w);
    FAIL() << "a session whose own pack was marked past its grace period published a recovery point";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("grace period is over"), std::string::npos) << e.what();
  }
}
