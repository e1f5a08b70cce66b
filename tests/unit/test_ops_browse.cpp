// ls, diff and cat called in-process, as a server would: the results and their --json views.
#include <gtest/gtest.h>

#include <map>

#include "ops/cat.h"
#include "ops/diff.h"
#include "ops/ls.h"
#include "repo/blob_writer.h"
#include "repo/config.h"
#include "test_util.h"
#include "util/clock.h"
#include "util/error.h"

using namespace arca;
using arca::testing::kind_of;

namespace {

// A recovery point of /data holding `files` (name -> contents) in one flat directory.
Snapshot save_point(Repository& repo, const std::map<std::string, std::string>& files) {
  BlobWriter w(repo);
  Tree t;
  for (const auto& [name, text] : files) {
    Bytes data(text.begin(), text.end());
    Node f;
    f.name = name;
    f.mode = 0644;
    Id id = repo.blob_id(data);
    if (!w.known(id)) w.add(BlobType::Data, id, data);
    f.content.push_back(id);
    f.size = data.size();
    t.nodes.push_back(f);
  }
  Bytes tb = encode_tree(t);
  Id tid = repo.blob_id(tb);
  if (!w.known(tid)) w.add(BlobType::Tree, tid, tb);
  w.flush();
  w.check_publishable();
  Snapshot s;
  s.time = now_rfc3339();
  s.tree = tid;
  s.host = "h1";
  s.source_kind = "files";
  s.paths = {"/data"};
  repo.save_snapshot(s);
  return s;
}

}  // namespace

TEST(OpsBrowse, LsListsTheEntriesOfAPoint) {
  TempDir dir;
  auto repo = make_test_repo(dir.path + "/repo");
  Snapshot s = save_point(*repo, {{"a.txt", "one"}, {"b.txt", "two!"}});
  JobContext ctx;
  ops::LsRequest req;
  req.snapshot = s.id.hex();
  auto r = ops::ls(*repo, req, ctx);
  EXPECT_EQ(r.snap.id, s.id);
  ASSERT_EQ(r.entries.size(), 2u);
  EXPECT_EQ(r.entries[0].path, "a.txt");
  EXPECT_EQ(r.entries[1].path, "b.txt");
  auto j = r.to_json();
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[1]["path"], "b.txt");
  EXPECT_EQ(j[1]["type"], "file");
  EXPECT_EQ(j[1]["size"], 4);
  EXPECT_EQ(j[1]["mode"], 0644);

  req.path = "b.txt";  // only that path
  std::vector<std::string> seen;
  req.each = [&](const std::string& p, const Node&) { seen.push_back(p); };
  r = ops::ls(*repo, req, ctx);
  EXPECT_TRUE(r.entries.empty());  // streamed, not held
  EXPECT_EQ(seen, std::vector<std::string>{"b.txt"});

  req.path = "nope";
  EXPECT_EQ(kind_of([&] { ops::ls(*repo, req, ctx); }), ErrorKind::NotFound);
}

TEST(OpsBrowse, DiffShowsTheAddedRemovedAndChangedFile) {
  TempDir dir;
  auto repo = make_test_repo(dir.path + "/repo");
  Snapshot a = save_point(*repo, {{"changed", "old"}, {"gone", "x"}, {"same", "s"}});
  Snapshot b = save_point(*repo, {{"changed", "new!"}, {"new", "y"}, {"same", "s"}});
  JobContext ctx;
  ops::DiffRequest req;
  req.from = a.id.hex();
  req.to = b.id.hex();
  auto r = ops::diff(*repo, req, ctx);
  ASSERT_EQ(r.changes.size(), 3u);
  EXPECT_EQ(r.changes[0].change, 'M');
  EXPECT_EQ(r.changes[0].path, "changed");
  EXPECT_EQ(r.changes[1].change, '-');
  EXPECT_EQ(r.changes[1].path, "gone");
  EXPECT_EQ(r.changes[2].change, '+');
  EXPECT_EQ(r.changes[2].path, "new");
  EXPECT_EQ(r.added, 1u);
  EXPECT_EQ(r.removed, 1u);
  EXPECT_EQ(r.modified, 1u);
  EXPECT_EQ(r.metadata_changed, 0u);
  auto j = r.to_json();
  EXPECT_EQ(j["from"], a.id.hex());
  EXPECT_EQ(j["to"], b.id.hex());
  EXPECT_EQ(j["changes"][2]["change"], "+");
  EXPECT_EQ(j["changes"][2]["path"], "new");
  EXPECT_EQ(j["added"], 1);
}

TEST(OpsBrowse, CatOfASnapshotReturnsItsJsonAndOfAnUnknownIdIsNotFound) {
  TempDir dir;
  auto repo = make_test_repo(dir.path + "/repo");
  Snapshot s = save_point(*repo, {{"f", "contents"}});
  JobContext ctx;
  ops::CatRequest req;
  req.what = {"snapshot", s.id.hex().substr(0, 8)};
  auto r = ops::cat(*repo, req, ctx);
  ASSERT_TRUE(r.json.has_value());
  EXPECT_EQ(*r.json, repo->find_snapshot(s.id.hex()).to_json());
  EXPECT_EQ(r.to_json()["tree"], s.tree.hex());

  req.what = {"file", s.id.hex(), "/f"};  // raw bytes, collected without a writer
  r = ops::cat(*repo, req, ctx);
  EXPECT_FALSE(r.json.has_value());
  EXPECT_EQ(std::string(r.raw.begin(), r.raw.end()), "contents");

  Id other = s.id;
  other.b[0] ^= 0xff;  // a full id that names no point
  req.what = {"snapshot", other.hex()};
  EXPECT_EQ(kind_of([&] { ops::cat(*repo, req, ctx); }), ErrorKind::NotFound);
  req.what = {"snapshot", other.hex().substr(0, 8)};
  EXPECT_EQ(kind_of([&] { ops::cat(*repo, req, ctx); }), ErrorKind::NotFound);
  req.what = {"index", "ffffffffff"};
  EXPECT_EQ(kind_of([&] { ops::cat(*repo, req, ctx); }), ErrorKind::NotFound);
}
