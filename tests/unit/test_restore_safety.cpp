// A hostile repository must not make restore write outside the target.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "crypto/random.h"
#include "repo/blob_writer.h"
#include "repo/repository.h"
#include "restore/holes.h"
#include "restore/restore.h"
#include "storage/local_backend.h"
#include "test_util.h"
#include "util/beneath.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/fd.h"

#include <fcntl.h>

using namespace arca;

namespace {

// Stores a snapshot whose root tree holds one file with a crafted name.
Snapshot hostile_snapshot(Repository& repo, const std::string& name) {
  Snapshot s;
  {
    BlobWriter w(repo);
    Bytes content = {'p', 'w', 'n'};
    Id cid = repo.blob_id(content);
    w.add(BlobType::Data, cid, content);
    Tree t;
    Node n;
    n.name = name;
    n.mode = 0644;
    n.size = 3;
    n.content = {cid};
    t.nodes = {n};
    Bytes enc = encode_tree(t);  // encoding does not validate: this is the attacker's tool
    s.tree = repo.blob_id(enc);
    w.add(BlobType::Tree, s.tree, enc);
    w.flush();
  }
  s.time = now_rfc3339();
  repo.save_snapshot(s);
  return s;
}

}  // namespace

TEST(RestoreSafety, TraversalNamesAreRefused) {
  for (std::string name : {"../escape", "..", "/tmp/escape-abs", "a/../../escape"}) {
    TempDir dir;
    auto repo = make_test_repo(dir.path + "/repo");
    // Open again so the index includes the new pack.
    Snapshot s = hostile_snapshot(*repo, name);
    repo = Repository::open(std::make_unique<LocalBackend>(dir.path + "/repo"), Credentials{"pw", {}});
    RestoreOptions o;
    o.target = dir.path + "/target/inner";
    ProgressCounters p;
    EXPECT_THROW(restore_files(*repo, s, o, p), Error) << name;
    EXPECT_FALSE(std::filesystem::exists(dir.path + "/target/escape"));
    EXPECT_FALSE(std::filesystem::exists(dir.path + "/escape"));
    EXPECT_FALSE(std::filesystem::exists("/tmp/escape-abs"));
  }
}

TEST(RestoreSafety, SymlinkInTargetIsReplacedNotFollowed) {
  TempDir dir;
  auto repo = make_test_repo(dir.path + "/repo");
  Snapshot s = hostile_snapshot(*repo, "victim");
  repo = Repository::open(std::make_unique<LocalBackend>(dir.path + "/repo"), Credentials{"pw", {}});
  std::filesystem::create_directories(dir.path + "/target");
  std::filesystem::create_directories(dir.path + "/outside");
  { std::ofstream(dir.path + "/outside/victim") << "original"; }
  std::filesystem::create_symlink(dir.path + "/outside/victim", dir.path + "/target/victim");
  RestoreOptions o;
  o.target = dir.path + "/target";
  ProgressCounters p;
  auto r = restore_files(*repo, s, o, p);
  EXPECT_TRUE(r.errors.empty());
  std::ifstream outside(dir.path + "/outside/victim");
  std::string content;
  outside >> content;
  EXPECT_EQ(content, "original") << "restore wrote through a symlink";
  EXPECT_FALSE(std::filesystem::is_symlink(dir.path + "/target/victim"));
  std::ifstream restored(dir.path + "/target/victim");
  restored >> content;
  EXPECT_EQ(content, "pwn");
}

TEST(RestoreSafety, OpenBeneathRefusesSymlinksAnywhereInThePath) {
  TempDir dir;
  std::filesystem::create_directories(dir.path + "/root/real");
  std::filesystem::create_directories(dir.path + "/outside");
  { std::ofstream(dir.path + "/outside/secret") << "x"; }
  { std::ofstream(dir.path + "/root/real/file") << "y"; }
  std::filesystem::create_directory_symlink(dir.path + "/outside", dir.path + "/root/swapped");
  UniqueFd root(open((dir.path + "/root").c_str(), O_RDONLY | O_DIRECTORY));
  UniqueFd ok(open_beneath(root.get(), "real/file", O_RDONLY));
  EXPECT_TRUE(ok.valid());
  UniqueFd bad(open_beneath(root.get(), "swapped/secret", O_WRONLY));
  EXPECT_FALSE(bad.valid()) << "a symlinked directory in the middle of the path was followed";
  UniqueFd up(open_beneath(root.get(), "../outside/secret", O_RDONLY));
  EXPECT_FALSE(up.valid());
}

TEST(RestoreHoles, ZeroRunsAreBlockAlignedAndLong) {
  Bytes data(1 << 20, 0);
  data[100] = 1;                                          // block 0 has data
  data[(512 << 10) + 5] = 2;                              // so does the block at 512 KiB
  auto runs = zero_runs(data.data(), 1000, data.size());  // the buffer starts at file offset 1000
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].first, 4096u);  // first whole block after the data at 1100
  EXPECT_EQ(runs[0].second, 1000u + (512 << 10) + 5 - ((1000u + (512 << 10) + 5) % 4096));
  EXPECT_EQ(runs[1].second % 4096, 0u);
  EXPECT_LE(runs[1].second, 1000u + data.size());
  Bytes short_run(kHoleMin - 4096 + 2, 0);  // shorter than kHoleMin: written, not a hole
  short_run[0] = 1;
  EXPECT_TRUE(zero_runs(short_run.data(), 0, short_run.size()).empty());
  Bytes random(1 << 16);
  for (size_t i = 0; i < random.size(); i++) random[i] = uint8_t(i * 7 + 1);
  EXPECT_TRUE(zero_runs(random.data(), 0, random.size()).empty());
}

TEST(RestoreStop, CancelledRestoreLeavesNothingUnderARealName) {
  TempDir dir;
  auto repo = make_test_repo(dir.path + "/repo");
  Snapshot s = hostile_snapshot(*repo, "file");
  repo = Repository::open(std::make_unique<LocalBackend>(dir.path + "/repo"), Credentials{"pw", {}});
  std::atomic<bool> stop{true};
  RestoreOptions o;
  o.target = dir.path + "/target";
  o.cancel = &stop;
  ProgressCounters p;
  auto r = restore_files(*repo, s, o, p);
  EXPECT_TRUE(r.interrupted);
  EXPECT_EQ(r.files, 0u);
  for (const auto& e : std::filesystem::directory_iterator(o.target)) ADD_FAILURE() << "left " << e.path();
}

TEST(RestoreDamage, MissingBlobIsRepositoryDamageAndNotCounted) {
  TempDir dir;
  auto repo = make_test_repo(dir.path + "/repo");
  Snapshot s = hostile_snapshot(*repo, "file");
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir.path + "/repo/data"))
    if (e.is_regular_file()) std::filesystem::remove(e.path());  // the only pack: data and tree
  repo = Repository::open(std::make_unique<LocalBackend>(dir.path + "/repo"), Credentials{"pw", {}});
  RestoreOptions o;
  o.target = dir.path + "/target";
  ProgressCounters p;
  try {
    auto r = restore_files(*repo, s, o, p);
    EXPECT_EQ(r.files, 0u);
    ASSERT_FALSE(r.errors.empty());
    EXPECT_EQ(r.errors[0].source, RestoreProblemSource::Repository);
  } catch (const Error& e) {
    EXPECT_NE(e.kind(), ErrorKind::Io) << e.what();  // the tree is gone: the repository's fault
  }
  EXPECT_FALSE(std::filesystem::exists(o.target + "/file"));
}

// Restic's habit: filters name paths as they were on the backed-up machine.
TEST(RestorePatterns, AbsolutePathsMapThroughTheSnapshotsPaths) {
  Snapshot s;
  s.paths = {"/home/alice", "/srv/data/"};
  EXPECT_EQ(tree_pattern(s, "/home/alice/src", "--include"), "alice/src");
  EXPECT_EQ(tree_pattern(s, "/home/alice", "--include"), "alice");
  EXPECT_EQ(tree_pattern(s, "/srv/data/x/*.log", "--exclude"), "data/x/*.log");
  EXPECT_EQ(tree_pattern(s, "alice/src", "--include"), "alice/src");  // a tree path stays as it is
  EXPECT_THROW(tree_pattern(s, "/home/alicex", "--include"), Error);  // a prefix of a name is not a parent
  EXPECT_THROW(tree_pattern(s, "/etc", "--include"), Error);
  Snapshot root;
  root.paths = {"/"};
  EXPECT_EQ(tree_pattern(root, "/etc/fstab", "--include"), "etc/fstab");
}
