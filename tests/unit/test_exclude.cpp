#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "restore/path_select.h"
#include "sources/files/backup.h"
#include "sources/files/exclude.h"
#include "util/error.h"

using namespace arca;

TEST(Exclude, NamesMatchAtAnyDepthAbsolutePathsFromTheTop) {
  ExcludeMatcher m;
  m.add("*.tmp");
  m.add("node_modules");
  m.add("/data/cache/*");
  EXPECT_TRUE(m.excluded("/a/b/x.tmp"));
  EXPECT_TRUE(m.excluded("/a/node_modules"));
  EXPECT_TRUE(m.excluded("/data/cache/x"));
  EXPECT_FALSE(m.excluded("/data/cachex/x"));
  EXPECT_FALSE(m.excluded("/a/b/x.txt"));
  EXPECT_FALSE(m.excluded("/x/data/cache/y"));  // anchored at '/'
}

// restic habits: a pattern with '/' that does not start with '/' matches at any depth.
TEST(Exclude, RelativePatternsWithSlashMatchAtAnyDepth) {
  ExcludeMatcher m;
  m.add("sub/deep");
  m.add(".cache/thumbnails");
  m.add("home/*/tmp");
  EXPECT_TRUE(m.excluded("/data/src/sub/deep"));
  EXPECT_TRUE(m.excluded("/sub/deep"));
  EXPECT_TRUE(m.excluded("/home/alice/.cache/thumbnails"));
  EXPECT_TRUE(m.excluded("/mnt/home/bob/tmp"));
  EXPECT_FALSE(m.excluded("/data/src/sub/deeper"));
  EXPECT_FALSE(m.excluded("/data/xsub/deep"));
  EXPECT_FALSE(m.excluded("/home/alice/x/tmp"));  // '*' does not cross '/'
}

TEST(Exclude, DoubleStarSpansComponents) {
  ExcludeMatcher m;
  m.add("/var/**/*.log");
  m.add("a/**/z");
  EXPECT_TRUE(m.excluded("/var/x.log"));
  EXPECT_TRUE(m.excluded("/var/log/app/x.log"));
  EXPECT_FALSE(m.excluded("/srv/var/x.log"));
  EXPECT_TRUE(m.excluded("/q/a/z"));
  EXPECT_TRUE(m.excluded("/q/a/b/c/z"));
  EXPECT_FALSE(m.excluded("/q/a/b/c/zz"));
}

TEST(Exclude, IgnoreCase) {
  ExcludeMatcher m;
  m.add("*.JPG", true);
  m.add("Cache");
  EXPECT_TRUE(m.excluded("/p/a.jpg"));
  EXPECT_TRUE(m.excluded("/p/a.Jpg"));
  EXPECT_FALSE(m.excluded("/p/cache"));  // case-sensitive pattern
  EXPECT_TRUE(m.excluded("/p/Cache"));
}

TEST(Exclude, HitsRecordEveryMatchingPattern) {
  ExcludeMatcher m;
  m.add("*.tmp");
  m.add("/data/x.tmp");  // shadowed by the first, but it did match
  m.add("nothing-here");
  std::vector<bool> hits(m.size(), false);
  EXPECT_TRUE(m.excluded("/data/x.tmp", hits));
  EXPECT_FALSE(m.excluded("/data/y.txt", hits));
  EXPECT_TRUE(hits[0]);
  EXPECT_TRUE(hits[1]);
  EXPECT_FALSE(hits[2]);
}

TEST(Exclude, FileLinesAreTrimmedCommentsAndBlanksSkipped) {
  std::string path = ::testing::TempDir() + "/arca-exclude-file";
  {
    std::ofstream f(path);
    f << "  *.tmp  \n\t\n# a comment\n   # indented comment\n\tsub/deep\r\n\n";
  }
  ExcludeMatcher m;
  m.add_file(path);
  std::remove(path.c_str());
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m.pattern(0), "*.tmp");
  EXPECT_EQ(m.pattern(1), "sub/deep");
  EXPECT_TRUE(m.excluded("/a/x.tmp"));
  EXPECT_TRUE(m.excluded("/a/sub/deep"));
  EXPECT_THROW(m.add_file(path), Error);  // gone now
}

TEST(Exclude, RestoreSelection) {
  EXPECT_TRUE(path_matches("dir", "dir/sub/file"));
  EXPECT_TRUE(path_matches("/dir/sub", "dir/sub/file"));
  EXPECT_TRUE(path_matches("*.txt", "a/b/c.txt"));
  EXPECT_TRUE(path_matches("dir/*/file", "dir/sub/file"));
  EXPECT_FALSE(path_matches("dir/sub", "dir/subx/file"));
  EXPECT_FALSE(path_matches("other", "dir/sub/file"));
}

// Where absolute paths land in a snapshot (docs/repository-format.md, "files" snapshots).
TEST(BackupPaths, TopNames) {
  EXPECT_EQ(snapshot_top_name("/home/alice"), "alice");
  EXPECT_EQ(snapshot_top_name("/etc"), "etc");
  // '/' is the root tree itself: its entries (etc, home, …) are the top level, so a restore to
  // /mnt/newroot gives /mnt/newroot/etc, not /mnt/newroot/root/etc.
  EXPECT_EQ(snapshot_top_name("/"), "");
  EXPECT_EQ(normalize_paths({"/"}), std::vector<std::string>{"/"});
  EXPECT_EQ(normalize_paths({"/etc/"}), std::vector<std::string>{"/etc"});
  EXPECT_THROW(normalize_paths({"/", "/etc"}), Error);
  EXPECT_THROW(normalize_paths({"/a/x", "/b/x"}), Error);
}
