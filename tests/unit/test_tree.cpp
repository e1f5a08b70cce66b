#include <gtest/gtest.h>

#include <map>

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
  Node odd;
  odd.name = "z-caf\xe9";  // Latin-1, not UTF-8
  odd.type = NodeType::Symlink;
  odd.link_target = "\xff\xfe";
  odd.xattrs = {{"user.\xff", Bytes{7}}};
  Node surrogate;
  surrogate.name = "zz-\xed\xa0\x80-\xc0\x80-\xf5\x80\x80\x80";  // surrogate, overlong, > U+10FFFF
  surrogate.size = 0;
  t.nodes = {d, f, l, odd, surrogate};
  Tree back = decode_tree(encode_tree(t), "t");
  ASSERT_EQ(back.nodes.size(), 5u);
  EXPECT_EQ(back.nodes[4].name, surrogate.name);
  EXPECT_EQ(back.nodes[3].name, odd.name);
  EXPECT_EQ(back.nodes[3].link_target, odd.link_target);
  EXPECT_EQ(back.nodes[3].xattrs, odd.xattrs);
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
  auto node = [](const char* name) {
    return std::string(R"({"name":")") + name +
           R"(","type":"file","mode":420,"uid":0,"gid":0,"mtime_ns":0,"ctime_ns":0,"inode":1,"device":1,"size":0,"content":[]})";
  };
  std::string sorted = "{\"nodes\":[" + node("a") + "," + node("b") + "]}";
  std::string unsorted = "{\"nodes\":[" + node("b") + "," + node("a") + "]}";
  std::string duplicate = "{\"nodes\":[" + node("a") + "," + node("a") + "]}";
  EXPECT_EQ(decode_tree(as_view(sorted), "t").nodes.size(), 2u);
  EXPECT_THROW(decode_tree(as_view(unsorted), "t"), Error);
  EXPECT_THROW(decode_tree(as_view(duplicate), "t"), Error);
}

// FIFOs, sockets and device nodes are stored (restic does); devices keep their device number.
TEST(Tree, SpecialFilesRoundTrip) {
  Tree t;
  const std::pair<const char*, NodeType> kinds[] = {
      {"blk", NodeType::BlockDev}, {"chr", NodeType::CharDev}, {"fifo", NodeType::Fifo}, {"sock", NodeType::Socket}};
  for (auto [name, type] : kinds) {
    Node n;
    n.name = name;
    n.type = type;
    n.mode = 0660;
    if (type == NodeType::CharDev || type == NodeType::BlockDev) n.rdev = 0x0703;
    t.nodes.push_back(n);
  }
  Tree back = decode_tree(encode_tree(t), "tree");
  ASSERT_EQ(back.nodes.size(), 4u);
  for (size_t i = 0; i < 4; i++) {
    EXPECT_EQ(back.nodes[i].type, t.nodes[i].type);
    EXPECT_TRUE(is_special(back.nodes[i].type));
    EXPECT_EQ(back.nodes[i].rdev, t.nodes[i].rdev);
  }
  EXPECT_STREQ(node_type_name(NodeType::CharDev), "chardev");
  // A device without its number is malformed.
  std::string s = R"({"nodes":[{"name":"d","type":"blockdev","mode":0,"uid":0,"gid":0,"mtime_ns":0,)"
                  R"("ctime_ns":0,"inode":0,"device":0}]})";
  EXPECT_THROW(decode_tree(ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()), "tree"), Error);
}

// Numbers a field cannot hold are Corrupt, not an undefined float conversion or a silent
// truncation (issue 18: `1e300` as a time aborted a sanitizer build).
TEST(Tree, OutOfRangeNumbersAreCorrupt) {
  auto tree = [](const std::string& field, const std::string& value) {
    std::map<std::string, std::string> f = {{"mode", "420"},   {"uid", "0"},   {"gid", "0"},    {"mtime_ns", "0"},
                                            {"ctime_ns", "0"}, {"inode", "1"}, {"device", "1"}, {"size", "0"}};
    f[field] = value;
    std::string s = R"({"nodes":[{"name":"a","type":"file","content":[])";
    for (const auto& [k, v] : f) s += ",\"" + k + "\":" + v;
    return s + "}]}";
  };
  EXPECT_EQ(decode_tree(as_view(tree("mtime_ns", "-1000")), "t").nodes[0].mtime_ns, -1000);
  EXPECT_EQ(decode_tree(as_view(tree("size", "1e3")), "t").nodes[0].size, 1000u);  // integral: accepted
  for (const auto& [field, value] :
       std::vector<std::pair<std::string, std::string>>{{"mtime_ns", "1e300"},
                                                        {"ctime_ns", "-1e300"},
                                                        {"mtime_ns", "9223372036854775808"},
                                                        {"size", "-1"},
                                                        {"size", "1.5"},
                                                        {"size", "1e20"},
                                                        {"uid", "4294967296"},
                                                        {"mode", "-1"},
                                                        {"inode", "\"1\""},
                                                        {"links", "1e10"}}) {
    try {
      decode_tree(as_view(tree(field, value)), "tree ab12");
      ADD_FAILURE() << field << " = " << value << " accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Corrupt) << field << " = " << value;
      EXPECT_NE(std::string(e.what()).find("tree ab12"), std::string::npos) << e.what();
    }
  }
}
