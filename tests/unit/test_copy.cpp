// Replication (docs/replication.md): `init --like` and `copy` on local repositories, in-process.
// Every test restores from the replica opened with its own password and compares bytes, and
// checks the replica after the copy, an interrupted copy and two copies at once.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "crypto/random.h"
#include "ops/backup_files.h"
#include "ops/copy.h"
#include "ops/copy_status.h"
#include "ops/forget.h"
#include "ops/pg_wal.h"
#include "ops/restore_files.h"
#include "repo/check.h"
#include "repo/object_families.h"
#include "repo/key_files.h"
#include "repo/object_names.h"
#include "repo/pack.h"
#include "storage/fault_backend.h"
#include "storage/rate_limited_backend.h"
#include "test_util.h"
#include "util/clock.h"

using namespace arca;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_random(const std::string& path, size_t n) {
  Bytes b(n);
  random_bytes(b);
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(n));
}

struct Copy : ::testing::Test {
  TempDir d;
  std::string data = d.path + "/data";
  std::unique_ptr<Repository> primary = make_test_repo(d.path + "/primary");
  JobContext ctx;

  void SetUp() override { std::filesystem::create_directories(data); }

  // As a new process would (the fixture's handle caches the index it read first).
  Snapshot backup() {
    ops::BackupFilesRequest req;
    req.paths = {data};
    return ops::backup_files(*open_test_repo(d.path + "/primary"), req, ctx).snapshot;
  }
  // A replica at d.path/<name>, its own password "dr".
  void make_replica(const std::string& name = "replica") {
    LocalBackend b(d.path + "/" + name);
    Credentials c;
    c.passphrase = "dr";
    Repository::init_like(b, *primary, c, {1, 8, 1});
  }
  // A copy by a fresh process: its own handles (this test's primary handle has cached its index).
  ops::CopyResult copy(ops::CopyRequest req = {}, const std::string& name = "replica") {
    auto p = open_test_repo(d.path + "/primary");
    auto r = Repository::open_replica(std::make_unique<LocalBackend>(d.path + "/" + name), *p);
    return ops::copy_to_replica(*p, *r, req, ctx);
  }
  // Restores `id` from the replica opened with its own password and compares every file with `data`.
  void expect_restores(const std::string& id, const std::string& name = "replica") {
    auto rep = open_test_repo(d.path + "/" + name, "dr");
    ops::RestoreFilesRequest req;
    req.snapshot = id;
    req.options.target = d.path + "/out-" + id.substr(0, 8);
    JobContext rctx;
    auto snap = ops::resolve_restore_point(*rep, req);
    auto r = ops::restore_files(*rep, snap, req, rctx);
    EXPECT_EQ(r.exit_code(), 0);
    size_t files = 0;
    const std::string root = req.options.target + "/data";
    for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
      if (!e.is_regular_file()) continue;
      std::string rel = std::filesystem::relative(e.path(), root).string();
      std::string want = read_text(data + "/" + rel), got = read_text(e.path());
      EXPECT_TRUE(got == want) << e.path() << ": " << got.size() << " bytes, expected " << want.size();
      files++;
    }
    EXPECT_EQ(files, snap.stats.files);
  }
  void expect_checks(const std::string& name = "replica") {
    auto rep = open_test_repo(d.path + "/" + name, "dr");
    CheckOptions o;
    o.read_data = true;
    ProgressCounters p;
    CheckResult r = check_repository(*rep, o, p);
    for (const auto& e : r.errors) ADD_FAILURE() << e.object << ": " << e.message;
  }
};

}  // namespace

TEST_F(Copy, InitLikeSharesTheKeysButHasItsOwnIdAndPassword) {
  make_replica();
  auto rep = open_test_repo(d.path + "/replica", "dr");
  EXPECT_NE(rep->config().repo_id, primary->config().repo_id);
  ASSERT_TRUE(rep->config().replica_of);
  EXPECT_EQ(*rep->config().replica_of, primary->config().repo_id);
  EXPECT_EQ(rep->keys().current_version(), primary->keys().current_version());
  EXPECT_EQ(arca::testing::kind_of([&] { open_test_repo(d.path + "/replica", "pw"); }), ErrorKind::Auth);
  // Keys are the primary's to rotate: the replica would stop reading what is copied.
  EXPECT_EQ(arca::testing::kind_of([&] { rep->rotate_data_key(); }), ErrorKind::Refused);
  EXPECT_EQ(arca::testing::kind_of([&] { make_replica(); }), ErrorKind::Refused);  // exists already
}

TEST_F(Copy, AnotherRepositoryIsNotAReplica) {
  make_test_repo(d.path + "/other");
  try {
    Repository::open_replica(std::make_unique<LocalBackend>(d.path + "/other"), *primary);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Refused);
    EXPECT_TRUE(has(e.what(), "init --repo DEST --like SOURCE")) << e.what();
  }
  EXPECT_EQ(arca::testing::kind_of([&] {
              Repository::open_replica(std::make_unique<LocalBackend>(d.path + "/nothing"), *primary);
            }),
            ErrorKind::NotFound);
}

TEST_F(Copy, PointsRestoreFromTheReplicaAloneAndARerunCopiesNothing) {
  write_random(data + "/a", 3 << 20);
  write_random(data + "/b", 100000);
  Snapshot first = backup();
  write_random(data + "/c", 2 << 20);
  Snapshot second = backup();
  make_replica();
  ops::CopyRequest oldest;
  oldest.snapshots = {first.id.hex()};
  auto r1 = copy(oldest);
  ASSERT_EQ(r1.copied.size(), 1u);
  EXPECT_EQ(r1.key_files, 1u);        // the key that signed it: signatures verify there
  EXPECT_EQ(r1.keyring_entries, 0u);  // init --like brought them
  expect_checks();
  expect_restores(first.id.hex());
  auto r = copy();
  ASSERT_EQ(r.copied.size(), 1u);
  EXPECT_EQ(r.copied[0].id, second.id);
  EXPECT_GT(r.blob_bytes, uint64_t(2 << 20) - 1);
  EXPECT_LT(r.blob_bytes, uint64_t(3 << 20));  // only c and the trees: a and b were there
  EXPECT_GT(r.reused_blobs, 0u);
  EXPECT_EQ(r.key_files, 0u);
  expect_checks();
  expect_restores(second.id.hex());
  auto again = copy();
  EXPECT_TRUE(again.copied.empty());
  EXPECT_EQ(again.present, 2u);
  EXPECT_EQ(again.blobs, 0u);
}

TEST_F(Copy, DryRunSaysWhatAndCopiesNothing) {
  write_random(data + "/a", 1 << 20);
  backup();
  make_replica();
  ops::CopyRequest req;
  req.dry_run = true;
  auto r = copy(req);
  EXPECT_EQ(r.copied.size(), 1u);
  EXPECT_GT(r.blob_bytes, uint64_t(1 << 20) - 1);
  EXPECT_TRUE(open_test_repo(d.path + "/replica", "dr")->list_snapshots().empty());
  EXPECT_EQ(copy().copied.size(), 1u);
}

TEST_F(Copy, ThePointsRetentionRemovedThereAreNotCopiedAgainUnlessNamed) {
  write_random(data + "/a", 200000);
  Snapshot first = backup();
  write_random(data + "/b", 200000);
  backup();
  make_replica();
  copy();
  {
    auto rep = open_test_repo(d.path + "/replica", "dr");
    ops::ForgetRequest f;
    f.ids = {first.id.hex()};
    f.confirmed = true;
    ops::forget(*rep, f, ctx);
  }
  auto r = copy();
  EXPECT_TRUE(r.copied.empty());
  EXPECT_EQ(r.removed_there, 1u);
  EXPECT_EQ(open_test_repo(d.path + "/replica", "dr")->list_snapshots().size(), 1u);
  ops::CopyRequest named;
  named.snapshots = {first.id.hex().substr(0, 10)};
  EXPECT_EQ(copy(named).copied.size(), 1u);
  EXPECT_EQ(open_test_repo(d.path + "/replica", "dr")->list_snapshots().size(), 2u);
}

// A copy that dies at every n-th write leaves a replica that checks, holds no point whose blobs
// are missing, and the next copy finishes it.
TEST_F(Copy, AnInterruptedCopyLeavesAReplicaThatChecksAndTheNextFinishesIt) {
  for (int i = 0; i < 6; i++) write_random(data + "/f" + std::to_string(i), 400000);
  Snapshot first = backup();
  write_random(data + "/g", 500000);
  Snapshot second = backup();
  make_replica();
  bool crashed_between_blobs_and_point = false;
  for (uint64_t n : {3, 8, 15, 25, 40, 60}) {
    auto inner = std::make_shared<LocalBackend>(d.path + "/replica");
    auto faults = std::make_unique<FaultBackend>(inner);
    faults->crash_at(BackendCall::Any, n);  // in the open, the copy of blobs, index or point
    bool crashed = false;
    try {
      auto p = open_test_repo(d.path + "/primary");
      auto rep = Repository::open_replica(std::move(faults), *p);
      ops::copy_to_replica(*p, *rep, {}, ctx);
    } catch (const Error&) {
      crashed = true;
    }
    expect_checks();
    auto points = open_test_repo(d.path + "/replica", "dr")->list_snapshots();
    for (const auto& s : points) EXPECT_TRUE(s.id == first.id || s.id == second.id);
    size_t packs = 0;
    inner->list(names::kDataPacksPrefix, [&](const ObjectInfo&) { packs++; });
    crashed_between_blobs_and_point = crashed_between_blobs_and_point || (crashed && packs > 0 && points.size() < 2);
  }
  EXPECT_TRUE(crashed_between_blobs_and_point) << "no crash hit the copy after blobs were stored: change the moments";
  auto r = copy();
  EXPECT_EQ(open_test_repo(d.path + "/replica", "dr")->list_snapshots().size(), 2u);
  expect_checks();
  expect_restores(second.id.hex());
  (void)r;
}

TEST_F(Copy, TwoCopiesAtOnceLeaveEachPointOnceAndAReplicaThatChecks) {
  for (int i = 0; i < 8; i++) write_random(data + "/f" + std::to_string(i), 300000);
  backup();
  write_random(data + "/z", 300000);
  Snapshot last = backup();
  make_replica();
  std::exception_ptr err;
  std::thread other([&] {
    try {
      JobContext c2;
      auto p2 = open_test_repo(d.path + "/primary");
      auto rep = Repository::open_replica(std::make_unique<LocalBackend>(d.path + "/replica"), *p2);
      ops::copy_to_replica(*p2, *rep, {}, c2);
    } catch (...) {
      err = std::current_exception();
    }
  });
  copy();
  other.join();
  if (err) std::rethrow_exception(err);
  EXPECT_EQ(open_test_repo(d.path + "/replica", "dr")->list_snapshots().size(), 2u);
  expect_checks();
  expect_restores(last.id.hex());
}

TEST_F(Copy, ANewDataKeyVersionGoesFirst) {
  write_random(data + "/a", 300000);
  backup();
  make_replica();
  copy();
  primary->rotate_data_key();
  write_random(data + "/b", 300000);
  Snapshot after = backup();
  auto r = copy();
  EXPECT_EQ(r.keyring_entries, 1u);
  EXPECT_EQ(r.copied.size(), 1u);
  expect_checks();
  expect_restores(after.id.hex());
}

TEST_F(Copy, WalAndDrillRecordsAreCopiedAndADamagedOneIsReported) {
  std::filesystem::create_directories(d.path + "/pg_wal");
  for (const char* seg : {"000000010000000000000003", "000000010000000000000004"}) {
    std::ofstream(d.path + "/pg_wal/" + seg, std::ios::binary) << "segment " << seg;
    ops::WalPushRequest push;
    push.path = d.path + "/pg_wal/" + seg;
    push.system_id = "7301";
    push.spool = d.path + "/spool";
    std::function<Repository&()> open = [this]() -> Repository& { return *primary; };
    ops::wal_push(open, push, ctx);
  }
  primary->save_object(names::drill_record(random_id()), Bytes{'{', '}'});
  // One WAL object damaged here: reported, not copied, the rest copied.
  std::vector<std::string> wal;
  primary->backend().list(names::kWalPrefix, [&](const ObjectInfo& o) { wal.push_back(o.name); });
  ASSERT_EQ(wal.size(), 2u);
  std::sort(wal.begin(), wal.end());
  Bytes bad = primary->backend().get(wal[1]);
  bad[bad.size() / 2] ^= 1;
  primary->backend().put(wal[1], bad);
  make_replica();
  // A point to copy too: the WAL is looked at before and after the points, and counted once.
  write_random(data + "/a", 1000);
  backup();
  ops::CopyRequest dry;
  dry.dry_run = true;
  auto would = copy(dry);
  EXPECT_EQ(would.wal_objects, 2u);  // a dry run does not authenticate: the damaged one counts
  EXPECT_EQ(would.drill_records, 1u);
  auto r = copy();
  EXPECT_EQ(r.wal_objects, 1u);
  EXPECT_EQ(r.drill_records, 1u);
  ASSERT_EQ(r.damaged.size(), 1u);
  EXPECT_TRUE(has(r.damaged[0], wal[1])) << r.damaged[0];
  auto rep = open_test_repo(d.path + "/replica", "dr");
  EXPECT_EQ(read_text(d.path + "/pg_wal/000000010000000000000003"),
            [&] {
              Bytes b = rep->load_object(wal[0]);
              return std::string(b.begin(), b.end());
            }());
  EXPECT_FALSE(rep->backend().stat(wal[1]));
}

// Copies go one way: not from a replica back to its primary (that would undo the primary's
// retention), not to a replica of another repository, not from an append-only key's init.
TEST_F(Copy, OnlyARepositorysOwnReplicaIsADestination) {
  write_random(data + "/a", 1000);
  backup();
  make_replica("dr");
  make_replica("dr2");
  auto refused = [&](const std::string& from, const std::string& from_pw, const std::string& to,
                     const std::string& says) {
    auto src = open_test_repo(d.path + "/" + from, from_pw);
    try {
      Repository::open_replica(std::make_unique<LocalBackend>(d.path + "/" + to), *src);
      ADD_FAILURE() << from << " -> " << to << ": no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Refused) << e.what();
      EXPECT_TRUE(has(e.what(), says)) << e.what();
    }
  };
  refused("dr", "dr", "primary", "never back");
  refused("dr", "dr", "dr2", "it replicates repository");
  // An append-only key cannot mint the replica's full key.
  Credentials ao;
  ao.passphrase = "ao";
  add_key_file(primary->backend(), primary->keys().master, ao, {1, 8, 1}, KeyRole::AppendOnly);
  auto appender = open_test_repo(d.path + "/primary", "ao");
  LocalBackend dst(d.path + "/minted");
  Credentials evil;
  evil.passphrase = "evil";
  EXPECT_EQ(arca::testing::kind_of([&] { Repository::init_like(dst, *appender, evil, {1, 8, 1}); }),
            ErrorKind::Refused);
  EXPECT_FALSE(dst.exists() && dst.stat("config"));
  // Its copies only add: the replica handle is append-only too.
  EXPECT_TRUE(Repository::open_replica(std::make_unique<LocalBackend>(d.path + "/dr"), *appender)->append_only());
}

// A point whose data is damaged everywhere is not copied; the points after it and the WAL are,
// and the damage is named.
TEST_F(Copy, ADamagedPointHoldsBackNothingElse) {
  write_random(data + "/a", 300000);
  Snapshot bad = backup();
  std::filesystem::remove(data + "/a");
  write_random(data + "/b", 300000);
  Snapshot good = backup();
  // Every data pack of the first point damaged: only its blobs are in them (b is another file).
  std::set<Id> packs;
  auto p = open_test_repo(d.path + "/primary");
  for (const auto& n : p->load_tree(bad.tree).nodes)
    if (n.subtree)
      for (const auto& f : p->load_tree(*n.subtree).nodes)
        for (const auto& c : f.content) packs.insert(p->find_blob(c)->pack);
  ASSERT_FALSE(packs.empty());
  for (const auto& id : packs) {
    std::string name = d.path + "/primary/" + pack_name(BlobType::Data, id);
    std::fstream f(name, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(40);
    char c = 0;
    f.get(c);
    f.seekp(40);
    f.put(char(c ^ 0x55));  // flipped: a constant would already be there one time in 256
  }
  make_replica();
  auto r = copy();
  ASSERT_EQ(r.copied.size(), 1u);
  EXPECT_EQ(r.copied[0].id, good.id);
  ASSERT_EQ(r.damaged.size(), 1u);
  EXPECT_TRUE(has(r.damaged[0], bad.id.short_hex())) << r.damaged[0];
  expect_checks();
  expect_restores(good.id.hex());
}

// A point that failed must not let a later point that shares its data skip what never reached
// the replica: both are reported and left out, a later point without the damage is copied.
TEST_F(Copy, APointSharingADamagedPointsDataIsNotPublishedWithoutIt) {
  std::filesystem::create_directories(data + "/shared");
  for (int i = 0; i < 3; i++) write_random(data + "/shared/f" + std::to_string(i), 50000);
  write_random(data + "/broken", 50000);
  Snapshot a = backup();
  write_random(data + "/extra", 50000);
  Snapshot b = backup();
  std::filesystem::remove(data + "/broken");
  Snapshot c = backup();
  {  // one byte of the blob of "broken", in the middle of its sealed bytes
    auto p = open_test_repo(d.path + "/primary");
    std::optional<Id> blob;
    for (const auto& n : p->load_tree(a.tree).nodes)
      if (n.subtree)
        for (const auto& f : p->load_tree(*n.subtree).nodes)
          if (f.name == "broken") blob = f.content.at(0);
    ASSERT_TRUE(blob);
    BlobLocation loc = *p->find_blob(*blob);
    std::fstream f(d.path + "/primary/" + pack_name(loc.type, loc.pack), std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(loc.offset + loc.length / 2);
    char ch = 0;
    f.get(ch);
    f.seekp(loc.offset + loc.length / 2);
    f.put(char(ch ^ 1));
    ASSERT_TRUE(f.good());
    f.close();
    EXPECT_EQ(arca::testing::kind_of([&] { open_test_repo(d.path + "/primary")->read_blob(*blob); }),
              ErrorKind::Corrupt);
  }
  make_replica();
  auto r = copy();
  ASSERT_EQ(r.copied.size(), 1u);
  EXPECT_EQ(r.copied[0].id, c.id);
  std::set<Id> damaged(r.damaged_points.begin(), r.damaged_points.end());
  EXPECT_EQ(damaged, (std::set<Id>{a.id, b.id}));
  expect_checks();
  expect_restores(c.id.hex());
}

TEST_F(Copy, AnInterruptedInitLikeIsFinishedByRunningItAgain) {
  make_replica();
  // As if it died before its key file was stored: only the primary's keys open it.
  std::filesystem::remove_all(d.path + "/replica/keys");
  EXPECT_THROW(open_test_repo(d.path + "/replica", "dr"), Error);
  // A copy refuses to fill it (it would open only with this repository's passwords), also once
  // a copy brought a signing key of the primary along.
  write_random(data + "/a", 1000);
  Snapshot s = backup();
  std::filesystem::create_directories(d.path + "/replica/keys");
  std::filesystem::copy_file(d.path + "/primary/" + names::key_file(s.key_id),
                             d.path + "/replica/" + names::key_file(s.key_id));
  EXPECT_EQ(arca::testing::kind_of([&] { copy(); }), ErrorKind::Refused);
  make_replica();  // again: finishes it
  EXPECT_NO_THROW(open_test_repo(d.path + "/replica", "dr"));
  EXPECT_EQ(arca::testing::kind_of([&] { make_replica(); }), ErrorKind::Refused);  // now complete
}

TEST_F(Copy, APointWithoutItsRecordGetsOne) {
  write_random(data + "/a", 1000);
  Snapshot s = backup();
  make_replica();
  copy();
  std::string record = d.path + "/replica/" + names::copied_record(s.id);
  ASSERT_TRUE(std::filesystem::exists(record));
  std::filesystem::remove(record);  // a copy killed between the point and its record
  copy();
  EXPECT_TRUE(std::filesystem::exists(record));
}

TEST_F(Copy, StatusSaysTheLagPerComponentAndWhatIsPending) {
  write_random(data + "/a", 100000);
  Snapshot first = backup();
  make_replica();
  auto status = [&] {
    auto p = open_test_repo(d.path + "/primary");
    auto r = Repository::open_replica(std::make_unique<LocalBackend>(d.path + "/replica"), *p);
    return ops::replica_status(*p, *r);
  };
  auto before = status();
  ASSERT_EQ(before.components.size(), 1u);
  EXPECT_EQ(before.components[0].pending_points, 1u);
  // Nothing there yet: the lag counts from the primary's oldest point of the component.
  EXPECT_NEAR(before.components[0].lag_s, before.checked_unix - *parse_time(first.time), 0.01);
  EXPECT_FALSE(before.components[0].rpo_s);
  copy();
  auto caught_up = status();
  EXPECT_EQ(caught_up.components[0].lag_s, 0);
  EXPECT_EQ(caught_up.max_lag_s(), 0);
  EXPECT_EQ(caught_up.pending_points, 0u);
  EXPECT_GE(*caught_up.components[0].rpo_s, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  write_random(data + "/b", 100000);
  Snapshot second = backup();
  auto behind = status();
  EXPECT_EQ(behind.pending_points, 1u);
  const auto& c = behind.components[0];
  EXPECT_EQ(c.replica_newest->id, first.id);
  EXPECT_EQ(c.primary_newest->id, second.id);
  EXPECT_NEAR(c.lag_s, *parse_time(second.time) - *parse_time(first.time), 0.01);
  EXPECT_GE(c.lag_s, 1.0);
  EXPECT_EQ(behind.to_json()["pending"]["points"], 1);
}

// A replicator measures the lag every minute: each point is read once in its life, not each time.
TEST_F(Copy, TheSnapshotCacheReadsEachPointOnce) {
  write_random(data + "/a", 1000);
  backup();
  Snapshot second = backup();
  auto faults = std::make_unique<FaultBackend>(std::make_shared<LocalBackend>(d.path + "/primary"));
  FaultBackend* fb = faults.get();
  Credentials c;
  c.passphrase = "pw";
  auto repo = Repository::open(std::move(faults), c);
  ops::SnapshotCache cache;
  fb->reset_counts();
  EXPECT_EQ(cache.list(*repo).size(), 2u);
  EXPECT_EQ(fb->calls(BackendCall::Get), 2u);
  EXPECT_EQ(cache.list(*repo).size(), 2u);
  EXPECT_EQ(fb->calls(BackendCall::Get), 2u);  // nothing read again
  ops::ForgetRequest f;
  f.ids = {second.id.hex()};
  f.confirmed = true;
  ops::forget(*open_test_repo(d.path + "/primary"), f, ctx);
  Snapshot third = backup();
  auto now = cache.list(*repo);
  ASSERT_EQ(now.size(), 2u);
  EXPECT_EQ(now.back().id, third.id);  // the forgotten one gone, the new one read
  EXPECT_EQ(fb->calls(BackendCall::Get), 3u);
}

TEST(RateLimit, HoldsWritesToTheRateAfterASecondOfBurst) {
  RateLimit limit(1000000, nullptr);
  auto t0 = std::chrono::steady_clock::now();
  limit.take(1000000);  // the burst
  limit.take(2000000);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_GT(s, 1.9);
  EXPECT_LT(s, 2.6);
}

TEST(RateLimit, ACancelEndsTheWait) {
  CancelToken cancel;
  RateLimit limit(1000000, &cancel);
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cancel.cancel();
  });
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(arca::testing::kind_of([&] { limit.take(20000000); }), ErrorKind::Cancelled);
  t.join();
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 1.0);
}

TEST(CopyFamilies, EveryFamilyHasAReplicationRule) {
  for (const auto& f : object_families()) EXPECT_FALSE(f.replication_rule.empty()) << f.id;
  EXPECT_EQ(object_family("snapshots").replication, Replication::Point);
  EXPECT_EQ(object_family("wal").replication, Replication::Raw);
  EXPECT_EQ(object_family("index").replication, Replication::Own);
}
