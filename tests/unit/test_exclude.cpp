#include <gtest/gtest.h>

#include "sources/files/exclude.h"

using namespace arca;

TEST(Exclude, NamesMatchAtAnyDepthPathsMatchWhole) {
  ExcludeMatcher m;
  m.add("*.tmp");
  m.add("node_modules");
  m.add("/data/cache/*");
  EXPECT_TRUE(m.excluded("/a/b/x.tmp", "x.tmp"));
  EXPECT_TRUE(m.excluded("/a/node_modules", "node_modules"));
  EXPECT_TRUE(m.excluded("/data/cache/x", "x"));
  EXPECT_FALSE(m.excluded("/data/cachex/x", "x"));
  EXPECT_FALSE(m.excluded("/a/b/x.txt", "x.txt"));
}

TEST(Exclude, RestoreSelection) {
  EXPECT_TRUE(path_matches("dir", "dir/sub/file"));
  EXPECT_TRUE(path_matches("/dir/sub", "dir/sub/file"));
  EXPECT_TRUE(path_matches("*.txt", "a/b/c.txt"));
  EXPECT_TRUE(path_matches("dir/*/file", "dir/sub/file"));
  EXPECT_FALSE(path_matches("dir/sub", "dir/subx/file"));
  EXPECT_FALSE(path_matches("other", "dir/sub/file"));
}
