// The repository-administration operations called in-process, as a server would: the rules
// (second factor, append-only keys, confirmations, the prune lock) hold without the CLI.
#include <gtest/gtest.h>

#include <ctime>

#include "crypto/totp.h"
#include "mem_repo.h"
#include "ops/error_table.h"
#include "ops/forget.h"
#include "ops/keys.h"
#include "ops/locks.h"
#include "ops/prune.h"
#include "ops/snapshots.h"
#include "repo/blob_writer.h"
#include "repo/config.h"
#include "repo/key_files.h"
#include "test_util.h"
#include "util/clock.h"
#include "util/error.h"

using namespace arca;
using arca::testing::kind_of;
using arca::testing::store_file_tree;

namespace {

const Argon2Params kCheapKdf{1, 8, 1};

// A recovery point of host `host` holding one small file.
Snapshot save_point(Repository& repo, const std::string& host) {
  BlobWriter w(repo);
  Id tid = store_file_tree(repo, w, {arca::testing::noise(1000)});
  w.check_publishable();
  Snapshot s;
  s.time = now_rfc3339();
  s.tree = tid;
  s.host = host;
  s.source_kind = "files";
  s.paths = {"/data"};
  repo.save_snapshot(s);
  return s;
}

// The repository at `path` opened with a new append-only key.
std::unique_ptr<Repository> open_append_only(Repository& full, const std::string& path) {
  Credentials c;
  c.passphrase = "host-pw";
  add_key_file(full.backend(), full.keys().master, c, kCheapKdf, KeyRole::AppendOnly);
  auto repo = open_test_repo(path, "host-pw");
  EXPECT_TRUE(repo->append_only());
  return repo;
}

std::string current_code(const MfaEnrollment& e) { return totp_code(base32_decode(e.secret_base32), time(nullptr)); }

struct LockedRepo {
  TempDir dir;
  std::unique_ptr<Repository> repo;
  MfaEnrollment mfa;
  SnapshotLock lock;
  JobContext ctx;
  LockedRepo() {
    repo = make_test_repo(dir.path + "/repo");
    Snapshot s = save_point(*repo, "h1");
    ops::LockAddRequest req;
    req.snapshots = {s.id.hex()};
    req.span = "1d";
    auto added = ops::add_locks(*repo, req, ctx);
    EXPECT_EQ(added.added.size(), 1u);
    lock = added.added.at(0).lock;
    mfa = ops::enroll_mfa(*repo, "test", ctx);
  }
  bool released() {
    for (const auto& l : load_locks(*repo))
      if (l.id == lock.id) return l.released;
    return false;
  }
};

}  // namespace

TEST(OpsLockRelease, RefusedWithoutCode) {
  LockedRepo t;
  ops::LockReleaseRequest req{t.lock.id.hex(), "", "no code"};
  EXPECT_EQ(kind_of([&] { ops::release_lock(*t.repo, req, t.ctx); }), ErrorKind::Auth);
  EXPECT_FALSE(t.released());
}

TEST(OpsLockRelease, RefusedWithWrongCode) {
  LockedRepo t;
  std::string good = current_code(t.mfa);
  std::string wrong = good == "000000" ? "111111" : "000000";
  ops::LockReleaseRequest req{t.lock.id.hex(), wrong, "wrong code"};
  EXPECT_EQ(kind_of([&] { ops::release_lock(*t.repo, req, t.ctx); }), ErrorKind::Auth);
  EXPECT_FALSE(t.released());
}

TEST(OpsLockRelease, RefusedForAppendOnlyKeyEvenWithRightCode) {
  LockedRepo t;
  auto host = open_append_only(*t.repo, t.dir.path + "/repo");
  ops::LockReleaseRequest req{t.lock.id.hex(), current_code(t.mfa), "host"};
  EXPECT_EQ(kind_of([&] { ops::release_lock(*host, req, t.ctx); }), ErrorKind::Refused);
  EXPECT_FALSE(t.released());
}

TEST(OpsLockRelease, ReleasedWithRightCode) {
  LockedRepo t;
  ops::LockReleaseRequest req{t.lock.id.hex().substr(0, 8), current_code(t.mfa), "done"};
  auto r = ops::release_lock(*t.repo, req, t.ctx);
  EXPECT_EQ(r.lock.id, t.lock.id);
  EXPECT_EQ(r.to_json()["released"], t.lock.id.hex());
  EXPECT_TRUE(t.released());
}

TEST(OpsMfa, AppendOnlyKeyCannotEnroll) {
  TempDir dir;
  auto repo = make_test_repo(dir.path + "/repo");
  auto host = open_append_only(*repo, dir.path + "/repo");
  JobContext ctx;
  EXPECT_EQ(kind_of([&] { ops::enroll_mfa(*host, "", ctx); }), ErrorKind::Refused);
  EXPECT_FALSE(mfa_enrolled(*repo));
}

TEST(OpsLockAdd, ComplianceNeedsConfirmationAndAppendOnlyCannotAddIt) {
  TempDir dir;
  auto repo = make_test_repo(dir.path + "/repo");
  Snapshot s = save_point(*repo, "h1");
  JobContext ctx;
  ops::LockAddRequest req;
  req.snapshots = {s.id.hex()};
  req.mode = "compliance";
  req.span = "1h";
  auto r = ops::add_locks(*repo, req, ctx);
  EXPECT_TRUE(r.needs_confirmation);
  EXPECT_NE(r.confirmation_reason.find("compliance lock on 1 recovery point"), std::string::npos);
  EXPECT_TRUE(load_locks(*repo).empty());
  auto host = open_append_only(*repo, dir.path + "/repo");
  req.confirmed = true;
  EXPECT_EQ(kind_of([&] { ops::add_locks(*host, req, ctx); }), ErrorKind::Refused);
  EXPECT_TRUE(load_locks(*repo).empty());
  req.store = "off";
  EXPECT_EQ(ops::add_locks(*repo, req, ctx).added.size(), 1u);
}

// All or nothing: an unknown id after a good one leaves the good one unlocked too.
TEST(OpsLockAdd, UnknownPointLocksNothing) {
  TempDir dir;
  auto repo = make_test_repo(dir.path + "/repo");
  Snapshot s = save_point(*repo, "h1");
  JobContext ctx;
  ops::LockAddRequest req;
  req.snapshots = {s.id.hex(), std::string(64, 'e')};
  req.span = "1h";
  req.store = "off";
  EXPECT_EQ(kind_of([&] { ops::add_locks(*repo, req, ctx); }), ErrorKind::NotFound);
  EXPECT_TRUE(load_locks(*repo).empty());
  req.snapshots = {s.id.hex(), "ffffffff"};
  EXPECT_EQ(kind_of([&] { ops::add_locks(*repo, req, ctx); }), ErrorKind::NotFound);
  EXPECT_TRUE(load_locks(*repo).empty());
}

TEST(OpsKeys, AppendOnlyKeyCannotAddFullKeysRemoveOrChangePassword) {
  TempDir dir;
  auto repo = make_test_repo(dir.path + "/repo");
  auto host = open_append_only(*repo, dir.path + "/repo");
  JobContext ctx;
  ops::KeyAddRequest req;
  req.creds.passphrase = "new";
  req.kdf = kCheapKdf;
  EXPECT_EQ(kind_of([&] { ops::add_key(*host, req, ctx); }), ErrorKind::Refused);
  EXPECT_EQ(kind_of([&] { ops::remove_key(*host, repo->key_id(), ctx); }), ErrorKind::Refused);
  EXPECT_EQ(kind_of([&] { ops::change_password(*host, req, ctx); }), ErrorKind::Refused);
  EXPECT_EQ(ops::list_keys(*repo).keys.size(), 2u);
  req.append_only = true;
  ops::add_key(*host, req, ctx);  // more append-only keys: allowed
  EXPECT_EQ(ops::list_keys(*repo).keys.size(), 3u);
  EXPECT_EQ(kind_of([&] { ops::remove_key(*repo, repo->key_id(), ctx); }), ErrorKind::Refused);  // the key in use
}

TEST(OpsForget, PlanThatEmptiesASourceNeedsConfirmation) {
  TempDir dir;
  auto repo = make_test_repo(dir.path + "/repo");
  Snapshot a = save_point(*repo, "h1");
  JobContext ctx;
  EventLog log;
  ctx.events = &log;
  ops::ForgetRequest req;
  req.ids = {a.id.hex()};
  auto r = ops::forget(*repo, req, ctx);
  EXPECT_TRUE(r.needs_confirmation);
  EXPECT_FALSE(r.applied);
  EXPECT_EQ(r.removed, 1u);
  EXPECT_FALSE(r.confirmation_reason.empty());
  EXPECT_EQ(repo->list_snapshots().size(), 1u) << "removed without confirmation";
  ASSERT_FALSE(log.events().empty());
  EXPECT_EQ(log.events()[0].code, "forget.needs_confirmation");

  req.ask = [](const std::vector<std::string>&) { return false; };  // the operator said no
  EXPECT_TRUE(ops::forget(*repo, req, ctx).needs_confirmation);
  EXPECT_EQ(repo->list_snapshots().size(), 1u);

  req.dry_run = true;  // looking needs no confirmation and changes nothing
  r = ops::forget(*repo, req, ctx);
  EXPECT_FALSE(r.needs_confirmation);
  EXPECT_EQ(r.to_json()["removed"], 1);
  EXPECT_EQ(repo->list_snapshots().size(), 1u);

  req.dry_run = false;
  req.ask = [](const std::vector<std::string>& reasons) { return !reasons.empty(); };
  r = ops::forget(*repo, req, ctx);
  EXPECT_TRUE(r.applied);
  EXPECT_TRUE(repo->list_snapshots().empty());
}

TEST(OpsForget, PolicyKeepsAndRemovesAndAppendOnlyIsRefused) {
  TempDir dir;
  auto repo = make_test_repo(dir.path + "/repo");
  for (int i = 0; i < 3; i++) save_point(*repo, "h1");
  JobContext ctx;
  ops::ForgetRequest req;
  req.keep.last = 1;
  auto host = open_append_only(*repo, dir.path + "/repo");
  EXPECT_EQ(kind_of([&] { ops::forget(*host, req, ctx); }), ErrorKind::Refused);
  EXPECT_EQ(repo->list_snapshots().size(), 3u);
  EXPECT_EQ(kind_of([&] { ops::forget(*repo, ops::ForgetRequest{}, ctx); }), ErrorKind::Usage);  // no rule
  auto r = ops::forget(*repo, req, ctx);
  EXPECT_FALSE(r.needs_confirmation);
  EXPECT_EQ(r.kept, 1u);
  EXPECT_EQ(r.removed, 2u);
  EXPECT_EQ(repo->list_snapshots().size(), 1u);
}

TEST(OpsForget, NamedLockedPointIsRefused) {
  LockedRepo t;
  ops::ForgetRequest req;
  req.ids = {t.lock.snapshot.hex()};
  req.confirmed = true;
  EXPECT_EQ(kind_of([&] { ops::forget(*t.repo, req, t.ctx); }), ErrorKind::Refused);
  EXPECT_EQ(t.repo->list_snapshots().size(), 1u);
}

TEST(OpsPrune, AnotherPruneRunningIsAConflict) {
  TempDir dir;
  auto repo = make_test_repo(dir.path + "/repo");
  save_point(*repo, "h1");
  JobContext ctx;
  {
    PruneLock running(*repo);
    try {
      ops::prune(*repo, ops::PruneRequest{}, ctx);
      ADD_FAILURE() << "a second prune ran";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Conflict) << e.what();
      EXPECT_EQ(exit_code_for(e.kind()), kExitConflict);
      EXPECT_NE(std::string(e.what()).find("another prune is running"), std::string::npos);
    }
    ops::PruneRequest dry;
    dry.dry_run = true;  // a dry run takes no lock
    EXPECT_EQ(ops::prune(*repo, dry, ctx).packs.snapshots, 1u);
  }
  auto r = ops::prune(*repo, ops::PruneRequest{}, ctx);
  EXPECT_FALSE(r.damaged());
  EXPECT_EQ(r.to_json()["snapshots"], 1);
}

TEST(OpsPrune, AppendOnlyKeyIsRefusedAndBadOptionsAreUsageErrors) {
  TempDir dir;
  auto repo = make_test_repo(dir.path + "/repo");
  auto host = open_append_only(*repo, dir.path + "/repo");
  JobContext ctx;
  EXPECT_EQ(kind_of([&] { ops::prune(*host, ops::PruneRequest{}, ctx); }), ErrorKind::Refused);
  ops::PruneRequest bad;
  bad.max_unused = "150%";
  EXPECT_EQ(kind_of([&] { ops::prune(*repo, bad, ctx); }), ErrorKind::Usage);
}

TEST(OpsSnapshots, ListShowsLocksAndTheJsonView) {
  LockedRepo t;
  save_point(*t.repo, "h2");
  auto list = ops::list_snapshots(*t.repo, SnapshotFilter{});
  ASSERT_EQ(list.points.size(), 2u);
  size_t locked = 0;
  for (const auto& p : list.points) locked += p.locks.size();
  EXPECT_EQ(locked, 1u);
  auto j = list.to_json();
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["future_dated"], false);
  EXPECT_TRUE(j[0].contains("locks"));
  SnapshotFilter only_h2;
  only_h2.hosts = {"h2"};
  EXPECT_EQ(ops::list_snapshots(*t.repo, only_h2).points.size(), 1u);
}
