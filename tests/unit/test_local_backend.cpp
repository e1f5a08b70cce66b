#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "storage/local_backend.h"
#include "test_util.h"
#include "util/error.h"

using namespace arca;

TEST(LocalBackend, Operations) {
  TempDir dir;
  LocalBackend b(dir.path + "/repo");
  EXPECT_FALSE(b.exists());
  b.create();
  EXPECT_TRUE(b.exists());
  b.put("data/ab/obj1", as_view("hello world"));
  EXPECT_EQ(as_string(b.get("data/ab/obj1")), "hello world");
  EXPECT_EQ(as_string(b.get_range("data/ab/obj1", 6, 5)), "world");
  EXPECT_THROW(b.get_range("data/ab/obj1", 6, 50), Error);
  EXPECT_EQ(b.stat("data/ab/obj1")->size, 11u);
  EXPECT_FALSE(b.stat("data/ab/none"));
  try {
    b.get("data/ab/none");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound);
    EXPECT_NE(std::string(e.what()).find("data/ab/none"), std::string::npos);
  }
  b.put("data/cd/obj2", as_view("x"));
  b.put("index/i1", as_view("y"));
  std::set<std::string> names;
  b.list("data/", [&](const ObjectInfo& o) { names.insert(o.name); });
  EXPECT_EQ(names, (std::set<std::string>{"data/ab/obj1", "data/cd/obj2"}));
  EXPECT_FALSE(b.put_if_absent("data/ab/obj1", as_view("other")));
  EXPECT_EQ(as_string(b.get("data/ab/obj1")), "hello world");
  EXPECT_TRUE(b.put_if_absent("data/ab/obj3", as_view("new")));
  b.remove("data/ab/obj1");
  EXPECT_FALSE(b.stat("data/ab/obj1"));
  // No temporary file is ever listed.
  names.clear();
  b.list("", [&](const ObjectInfo& o) { names.insert(o.name); });
  for (const auto& n : names) EXPECT_EQ(n.find(".tmp"), std::string::npos) << n;
}

TEST(LocalBackend, CreateIfAbsentRaceHasExactlyOneWinner) {
  TempDir dir;
  LocalBackend b(dir.path);
  for (int round = 0; round < 20; round++) {
    std::atomic<int> wins{0};
    std::vector<std::thread> ts;
    std::string name = "keyring/" + std::to_string(round);
    for (int i = 0; i < 8; i++)
      ts.emplace_back([&, i] {
        if (b.put_if_absent(name, as_view("writer" + std::to_string(i)))) wins++;
      });
    for (auto& t : ts) t.join();
    EXPECT_EQ(wins, 1);
    EXPECT_EQ(as_string(b.get(name)).substr(0, 6), "writer");
  }
}
