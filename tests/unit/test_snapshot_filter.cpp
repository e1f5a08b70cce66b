// Retention plans group points by job (host + path set); tags and hosts as selectors take them.
#include <gtest/gtest.h>

#include <algorithm>

#include "crypto/random.h"
#include "repo/retention_plan.h"
#include "repo/snapshot.h"
#include "repo/snapshot_filter.h"
#include "util/error.h"

using namespace arca;

// ---- Retention plans: groups are jobs (host + path set), tags split on commas ----

namespace {

arca::Snapshot files_point(const std::string& time, const std::vector<std::string>& paths, const std::string& name,
                           std::vector<std::string> tags = {}) {
  arca::Snapshot s;
  s.id = arca::random_id();
  s.time = time;
  s.host = "h";
  s.paths = paths;
  s.source_name = name;
  s.tags = std::move(tags);
  return s;
}

arca::RetentionConfig keep_last(int n) {
  arca::RetentionConfig cfg;
  arca::RetentionRule r;
  r.name = "command line";
  r.from_flags = true;
  r.keep.last = n;
  cfg.rules.push_back(r);
  return cfg;
}

}  // namespace

// Points written by older versions name every multi-path job "2 paths": they must still group
// by their path sets, so --keep-last 1 keeps the newest of each job.
TEST(RetentionPlan, OldMultiPathPointsGroupByPathSet) {
  std::vector<arca::Snapshot> snaps = {
      files_point("2026-01-01T00:00:00Z", {"/data/src", "/data/docs"}, "2 paths"),
      files_point("2026-01-02T00:00:00Z", {"/data/docs", "/data/src"}, "2 paths"),
      files_point("2026-01-03T00:00:00Z", {"/data/x", "/data/y"}, "2 paths"),
  };
  auto plan = arca::plan_retention(snaps, keep_last(1), {}, 1800000000);  // 2027-01-15
  std::set<arca::Id> kept;
  for (const auto& p : plan.items)
    if (p.keep) kept.insert(p.snap->id);
  EXPECT_EQ(kept, (std::set<arca::Id>{snaps[1].id, snaps[2].id}));
  EXPECT_EQ(plan.removed(), 1u);
  for (const auto& p : plan.items) {
    if (!p.keep) {
      EXPECT_EQ(p.reasons, std::vector<std::string>{"not kept by the --keep options (last 1)"});
    }
  }
}

// Removing both points of one job by id is "every point of a source", even beside another
// multi-path job of the same host.
TEST(RetentionPlan, EmptiedSourceIsTheJob) {
  std::vector<arca::Snapshot> snaps = {
      files_point("2026-01-01T00:00:00Z", {"/a", "/b"}, "2 paths"),
      files_point("2026-01-02T00:00:00Z", {"/b", "/a"}, "/a, /b"),
      files_point("2026-01-03T00:00:00Z", {"/x", "/y"}, "2 paths"),
  };
  auto msgs = arca::sources_emptied(snaps, {&snaps[0], &snaps[1]});
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_NE(msgs[0].find("/a, /b (2)"), std::string::npos) << msgs[0];
  EXPECT_TRUE(arca::sources_emptied(snaps, {&snaps[0]}).empty());
}

TEST(RetentionPlan, SourceMatchUsesThePathSet) {
  auto s = files_point("2026-01-01T00:00:00Z", {"/b", "/a"}, "2 paths");
  EXPECT_EQ(arca::source_name_of(s), "/a, /b");
  arca::Snapshot other = s;
  other.paths = {"/a", "/b"};
  EXPECT_TRUE(arca::same_source(s, other));
  other.host = "h2";
  EXPECT_FALSE(arca::same_source(s, other));
}

TEST(Tags, SplitOnCommasAndRejectEmpty) {
  EXPECT_EQ(arca::split_tags({"a,b", "c", "a"}), (std::vector<std::string>{"a", "b", "c"}));
  for (const char* bad : {"", "a,,b", "a,", ",a"}) EXPECT_THROW(arca::split_tags({bad}), arca::Error) << bad;
}

// A point tagged "a,b" by an older version carries a and b: --keep-tag a keeps it.
TEST(Tags, OldCommaTagsReadAsSeparateTags) {
  auto s = files_point("2026-01-01T00:00:00Z", {"/a"}, "/a", {"a,b", "c"});
  auto j = s.to_json();
  auto back = arca::Snapshot::from_json(j, s.id);
  EXPECT_EQ(back.tags, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(Tags, PolicyTagsSplitAndRejectEmpty) {
  auto cfg = arca::parse_retention_config(
      nlohmann::json::parse(R"({"rules": [{"match": {"tags": "x,y"}, "keep": {"tags": ["a,b"]}}]})"), "p");
  EXPECT_EQ(cfg.rules[0].tags, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(cfg.rules[0].keep.tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_THROW(arca::parse_retention_config(nlohmann::json::parse(R"({"rules": [{"keep": {"tags": ["a,"]}}]})"), "p"),
               arca::Error);
}

TEST(SnapshotFilter, MatchesHostPathTagKind) {
  auto s = files_point("2026-01-01T00:00:00Z", {"/a", "/b"}, "/a, /b", {"x", "y"});
  arca::SnapshotFilter f;
  EXPECT_TRUE(f.empty());
  EXPECT_TRUE(f.matches(s));
  f.hosts = {"other", "h"};
  f.paths = {"/b"};
  f.tags = {"y", "x"};
  EXPECT_TRUE(f.matches(s));
  f.paths = {"/b", "/c"};
  EXPECT_FALSE(f.matches(s));
  f.paths = {};
  f.tags = {"z"};
  EXPECT_FALSE(f.matches(s));
  f.tags = {};
  f.kind = "redis";
  EXPECT_FALSE(f.matches(s));
  // A kind no point has and Arca does not make is a typo: say so, listing the known kinds.
  f.kind = "foo";
  try {
    arca::filter_snapshots({s}, f);
    FAIL() << "no error for an unknown kind";
  } catch (const arca::Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown kind 'foo' (known: files, kafka"), std::string::npos) << e.what();
  }
  f.kind = "redis";
  EXPECT_TRUE(arca::filter_snapshots({s}, f).empty());
}

TEST(SnapshotFilter, RelativePathsBecomeAbsolute) {
  auto p = arca::absolute_paths({"/x/./y/", "rel"});
  EXPECT_EQ(p[0], "/x/y");
  EXPECT_EQ(p[1].front(), '/');
  EXPECT_EQ(p[1].substr(p[1].size() - 4), "/rel");
}

// Tags and hosts are trimmed as restic does; whitespace-only ones are refused (t1 #4).
TEST(SnapshotTags, SplitTrimsAndRefusesWhitespaceOnly) {
  EXPECT_EQ(split_tags({"a, b", " c "}), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(split_tags({"a", " a"}), std::vector<std::string>{"a"});
  for (const char* bad : {" ", "a, ,b", "\t", "a,  "}) {
    try {
      split_tags({bad});
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Usage);
    }
  }
}

TEST(SnapshotTags, HostTrimmedWhitespaceOnlyRefused) {
  EXPECT_EQ(normal_host(" vm "), "vm");
  EXPECT_THROW(normal_host("  "), Error);
  EXPECT_THROW(normal_host(""), Error);
}

TEST(SnapshotTags, StoredTagsAndHostReadTrimmed) {
  nlohmann::json j = {{"time", "2026-01-01T00:00:00Z"}, {"host", " vm"},
                      {"source", {{"kind", "files"}}},  {"tags", {"a", " b", "c, d", " "}},
                      {"tree", std::string(64, '0')},   {"stats", nlohmann::json::object()}};
  Snapshot s = Snapshot::from_json(j, Id{});
  EXPECT_EQ(s.host, "vm");
  EXPECT_EQ(s.tags, (std::vector<std::string>{"a", "b", "c", "d"}));
}
