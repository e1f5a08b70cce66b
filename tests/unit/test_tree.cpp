#include <gtest/gtest.h>

#include "crypto/random.h"
#include "repo/tree.h"
#include "util/error.h"

using namespace arca;

TEST(Tree, RoundTrip) {
  Tree t;
  Node d;
  d.name = "dir";
  d.type = NodeType::Dir;
  d.subtree = random_id();
  Node f;
  f.name = "file";
  f.mode = 0644;
  f.size = 123;
  f.mtime_ns = 1700000000123456789;
  f.content = {random_id(), random_id()};
  f.xattrs = {{"user.test", Bytes{1, 2, 3}}};
  f.links = 2;
  Node l;
  l.name = "link";
  l.type = NodeType::Symlink;
  l.link_target = "../x";
  t.nodes = {d, f, l};
  Tree back = decode_tree(encode_tree(t), "t");
  ASSERT_EQ(back.nodes.size(), 3u);
  EXPECT_EQ(back.nodes[0].subtree, d.subtree);
  EXPECT_EQ(back.nodes[1].content, f.content);
  EXPECT_EQ(back.nodes[1].mtime_ns, f.mtime_ns);
  EXPECT_EQ(back.nodes[1].xattrs, f.xattrs);
  EXPECT_EQ(back.nodes[1].links, 2u);
  EXPECT_EQ(back.nodes[2].link_target, "../x");
}

TEST(Tree, UnsafeNamesAreRejected) {
  for (const std::string& bad : std::vector<std::string>{"..", ".", "", "a/b", "/etc", std::string("a\0b", 3)}) {
    Tree t;
    Node n;
    n.name = bad;
    t.nodes = {n};
    EXPECT_THROW(decode_tree(encode_tree(t), "t"), Error) << "name '" << bad << "'";
  }
  EXPECT_TRUE(is_safe_name("normal.txt"));
  EXPECT_TRUE(is_safe_name("..."));
}

TEST(Tree, UnsortedOrDuplicateEntriesAreRejected) {
  Tree t;
  Node a{.name = "b"}, b{.name = "a"};
  t.nodes = {a, b};
  EXPECT_THROW(decode_tree(encode_tree(t), "t"), Error);
  t.nodes = {a, a};
  EXPECT_THROW(decode_tree(encode_tree(t), "t"), Error);
}
