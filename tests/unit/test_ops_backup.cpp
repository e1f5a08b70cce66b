// The files backup as an operation (ops::backup_files) and the one publish step every source
// uses (repo/publish.h), in-process on a local repository in a temporary directory.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "mem_repo.h"
#include "ops/backup_files.h"
#include "repo/blob_writer.h"
#include "repo/config.h"
#include "repo/pack.h"
#include "repo/publish.h"
#include "restore/restore.h"
#include "test_util.h"
#include "util/error.h"
#include "util/host.h"

using namespace arca;
using arca::testing::kind_of;
using arca::testing::store_file_tree;

namespace {

void write_file(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> objects(Repository& repo, const std::string& prefix) {
  std::vector<std::string> names;
  repo.backend().list(prefix, [&](const ObjectInfo& o) { names.push_back(o.name); });
  return names;
}

}  // namespace

TEST(OpsBackupFiles, RoundTripThroughARestore) {
  TempDir d;
  write_file(d.path + "/src/a.txt", "alpha\n");
  write_file(d.path + "/src/sub/b.txt", std::string(100000, 'b'));
  auto repo = make_test_repo(d.path + "/repo");
  ops::BackupFilesRequest req;
  req.paths = {d.path + "/src"};
  req.host = "unit-host";
  req.tags = {"t1"};
  JobContext ctx;
  ops::BackupFilesResult r = ops::backup_files(*repo, req, ctx);
  EXPECT_FALSE(r.partial());
  EXPECT_EQ(r.snapshot.host, "unit-host");
  EXPECT_EQ(r.snapshot.program_version, ARCA_VERSION);
  EXPECT_EQ(r.snapshot.user, local_username());
  EXPECT_EQ(r.to_json()["short_id"], r.snapshot.id.short_hex());
  ASSERT_EQ(repo->list_snapshots().size(), 1u);
  EXPECT_EQ(ctx.progress.files_done.load(), 2u);

  RestoreOptions ro;
  ro.target = d.path + "/out";
  ProgressCounters p;
  RestoreResult rr = restore_files(*repo, repo->find_snapshot("latest"), ro, p);
  EXPECT_TRUE(rr.errors.empty());
  EXPECT_EQ(read_file(d.path + "/out/src/a.txt"), "alpha\n");
  EXPECT_EQ(read_file(d.path + "/out/src/sub/b.txt"), std::string(100000, 'b'));

  // The next run of the same job finds its parent by the host given and the paths.
  JobContext ctx2;
  ops::BackupFilesResult r2 = ops::backup_files(*repo, req, ctx2);
  EXPECT_EQ(r2.snapshot.parent, r.snapshot.id);
}

TEST(OpsBackupFiles, DryRunPublishesNothing) {
  TempDir d;
  write_file(d.path + "/src/a.txt", "alpha\n");
  auto repo = make_test_repo(d.path + "/repo");
  ops::BackupFilesRequest req;
  req.paths = {d.path + "/src"};
  req.dry_run = true;
  JobContext ctx;
  ops::BackupFilesResult r = ops::backup_files(*repo, req, ctx);
  EXPECT_TRUE(r.to_json()["dry_run"].get<bool>());
  EXPECT_EQ(r.to_json()["files"], 1);
  EXPECT_TRUE(repo->list_snapshots().empty());
}

TEST(OpsBackupFiles, CancelledPublishesNothing) {
  TempDir d;
  write_file(d.path + "/src/a.txt", "alpha\n");
  auto repo = make_test_repo(d.path + "/repo");
  ops::BackupFilesRequest req;
  req.paths = {d.path + "/src"};
  req.count_totals = true;
  JobContext ctx;
  ctx.cancel.cancel();
  EXPECT_EQ(kind_of([&] { ops::backup_files(*repo, req, ctx); }), ErrorKind::Cancelled);
  EXPECT_TRUE(repo->list_snapshots().empty());
}

TEST(PublishPoint, RecordsTheGivenHostElseThisMachine) {
  Snapshot a, b;
  stamp_point(a, {"db7", "2026-01-02T03:04:05Z"});
  EXPECT_EQ(a.host, "db7");
  EXPECT_EQ(a.time, "2026-01-02T03:04:05Z");
  EXPECT_EQ(a.program_version, ARCA_VERSION);
  stamp_point(b, {});
  EXPECT_EQ(b.host, local_hostname());
  EXPECT_FALSE(b.time.empty());
  EXPECT_EQ(b.user, local_username());
}

TEST(PublishPoint, SavesAndSignsThePoint) {
  TempDir d;
  auto repo = make_test_repo(d.path + "/repo");
  BlobWriter w(*repo);
  Snapshot s;
  s.tree = store_file_tree(*repo, w, {Bytes(1000, 7)});
  publish_point(*repo, w, s, {"h1", ""});
  Snapshot back = repo->find_snapshot(s.id.hex());
  EXPECT_EQ(back.host, "h1");
  EXPECT_FALSE(back.key_id.empty());
}

TEST(PublishPoint, CancelledJobPublishesNothing) {
  TempDir d;
  auto repo = make_test_repo(d.path + "/repo");
  BlobWriter w(*repo);
  Snapshot s;
  s.tree = store_file_tree(*repo, w, {Bytes(1000, 7)});
  CancelToken cancel;
  cancel.cancel();
  EXPECT_EQ(kind_of([&] { publish_point(*repo, w, s, {}, &cancel); }), ErrorKind::Cancelled);
  EXPECT_TRUE(repo->list_snapshots().empty());
}

// A session whose index view predates a prune that deleted a pack it reuses from must not
// publish a point referencing that data (BlobWriter::check_publishable, via publish_point).
TEST(PublishPoint, RefusesAPointWhoseReusedPackVanished) {
  TempDir d;
  auto repo = make_test_repo(d.path + "/repo");
  Bytes data(5000, 42);
  {
    BlobWriter w(*repo);
    Snapshot s;
    s.tree = store_file_tree(*repo, w, {data});
    publish_point(*repo, w, s, {});
  }
  Credentials c;
  c.passphrase = "pw";
  auto later = Repository::open(std::make_unique<LocalBackend>(d.path + "/repo"), c);
  later->index();  // its view of the index, read before "the prune" below
  for (const auto& name : objects(*later, pack_dir(BlobType::Data))) later->backend().remove(name);
  for (const auto& name : objects(*later, "index/")) later->backend().remove(name);
  BlobWriter w(*later);
  Snapshot s;
  s.tree = store_file_tree(*later, w, {data});  // the data blob is reused from the vanished pack
  EXPECT_THROW(publish_point(*later, w, s, {}), Error);
  EXPECT_EQ(later->list_snapshots().size(), 1u);
}
