// Points of '/' written before issue 17 held the system under one directory "root"; restore,
// ls, diff and cat read them as if '/' were the top level (content_root), so a restore to /
// never turns /root into a copy of the system. New points of '/' are never remapped.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "repo/blob_writer.h"
#include "repo/tree_walk.h"
#include "restore/restore.h"
#include "test_util.h"
#include "util/clock.h"

using namespace arca;

namespace {

// A files point of '/' whose root tree is root/etc/hostname, as older versions stored it.
Snapshot whole_system_point(Repository& repo, bool marked) {
  BlobWriter w(repo);
  auto add_tree = [&](const Tree& t) {
    Bytes enc = encode_tree(t);
    Id id = repo.blob_id(enc);
    w.add(BlobType::Tree, id, enc);
    return id;
  };
  Bytes content = {'h', 'o', 's', 't', '\n'};
  Id cid = repo.blob_id(content);
  w.add(BlobType::Data, cid, content);
  Node file;
  file.name = "hostname";
  file.mode = 0644;
  file.size = content.size();
  file.content = {cid};
  Node etc;
  etc.name = "etc";
  etc.type = NodeType::Dir;
  etc.mode = 0755;
  etc.subtree = add_tree(Tree{{file}});
  Node root = etc;
  root.name = "root";
  root.subtree = add_tree(Tree{{etc}});
  Snapshot s;
  s.tree = add_tree(Tree{{root}});
  w.flush();
  s.time = now_rfc3339();
  s.paths = {"/"};
  if (marked) s.metadata["layout"] = typed_meta("string", "root-entries");
  repo.save_snapshot(s);
  return s;
}

}  // namespace

TEST(RootLayout, OldPointOfSlashRestoresWhereFilesWere) {
  TempDir dir;
  auto repo = make_test_repo(dir.path + "/repo");
  Snapshot s = whole_system_point(*repo, false);
  repo = Repository::open(std::make_unique<LocalBackend>(dir.path + "/repo"),
                          Credentials{"pw", {}});  // reads the new index
  RestoreOptions o;
  o.target = dir.path + "/newroot";
  ProgressCounters p;
  restore_files(*repo, s, o, p);
  EXPECT_TRUE(std::filesystem::exists(o.target + "/etc/hostname"));
  EXPECT_FALSE(std::filesystem::exists(o.target + "/root"));
}

TEST(RootLayout, NewPointsAndOtherPathsAreNotRemapped) {
  TempDir dir;
  auto repo = make_test_repo(dir.path + "/repo");
  Snapshot marked = whole_system_point(*repo, true);
  EXPECT_EQ(content_root(*repo, marked), marked.tree);  // a '/' that really holds only /root
  Snapshot other = whole_system_point(*repo, false);
  other.paths = {"/srv/root"};
  EXPECT_EQ(content_root(*repo, other), other.tree);
  Snapshot old = whole_system_point(*repo, false);
  repo = Repository::open(std::make_unique<LocalBackend>(dir.path + "/repo"), Credentials{"pw", {}});
  EXPECT_NE(content_root(*repo, old), old.tree);
}
