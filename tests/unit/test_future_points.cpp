// Future-dated recovery points (issue 18 #2, docs/security.md): a point planted with an
// append-only key and dated 2099 for a real host and source never anchors retention and is never
// "latest"; check flags it; every point records the key that wrote it. And times that are no
// times (seconds "1e300") are range-checked instead of cast (issue 18 #7).
#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>

#include "crypto/sign.h"
#include "repo/check.h"
#include "repo/future_points.h"
#include "repo/point_signature.h"
#include "repo/retention_plan.h"
#include "repo/snapshot_filter.h"
#include "repo/source_snapshot.h"
#include "test_util.h"
#include "util/clock.h"
#include "util/error.h"

namespace {

constexpr int64_t kDay = 86400;

std::string rfc3339(int64_t t) {
  time_t tt = time_t(t);
  tm g;
  gmtime_r(&tt, &g);
  char buf[64];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &g);
  return buf;
}

arca::Snapshot point(const std::string& time, const std::string& host = "web1") {
  arca::Snapshot s;
  s.time = time;
  s.host = host;
  s.paths = {"/srv/data"};
  s.source_name = "/srv/data";
  s.tree = arca::random_id();
  return s;
}

arca::RetentionConfig rule(void (*set)(arca::RetentionPolicy&)) {
  arca::RetentionConfig cfg;
  arca::RetentionRule r;
  r.name = "command line";
  r.from_flags = true;
  set(r.keep);
  cfg.rules.push_back(r);
  return cfg;
}

std::vector<arca::Id> kept(const arca::RetentionPlan& plan) {
  std::vector<arca::Id> out;
  for (const auto& p : plan.items)
    if (p.keep) out.push_back(p.snap->id);
  return out;
}

bool has(const std::vector<arca::Id>& v, const arca::Id& id) { return std::find(v.begin(), v.end(), id) != v.end(); }

// A repository with genuine points of web1 40, 20 and 1 day(s) old and one now, written with the
// operator's key, and a point dated 2099 for the same host and source written through a
// Repository opened with an append-only key.
struct PlantedRepo : ::testing::Test {
  TempDir dir;
  std::unique_ptr<arca::Repository> repo;
  std::vector<arca::Snapshot> genuine;
  arca::Snapshot planted;
  std::string host_key;
  int64_t now = arca::clock_now();

  void SetUp() override {
    repo = make_test_repo(dir.path + "/repo");
    arca::Credentials host;
    host.passphrase = "host";
    host_key = arca::add_key_file(repo->backend(), repo->keys().master, host, {1, 8, 1}, arca::KeyRole::AppendOnly);
    for (int64_t age : {40 * kDay, 20 * kDay, 1 * kDay, int64_t(0)}) {
      arca::Snapshot s = point(rfc3339(now - age));
      repo->save_snapshot(s);
      genuine.push_back(s);
    }
    auto appender = arca::Repository::open(std::make_unique<arca::LocalBackend>(dir.path + "/repo"), host);
    ASSERT_TRUE(appender->append_only());
    planted = point("2099-06-01T00:00:00Z");
    appender->save_snapshot(planted);
  }
};

TEST_F(PlantedRepo, KeepWithinAndKeepLastCountFromGenuinePoints) {
  auto snaps = repo->list_snapshots();
  ASSERT_EQ(snaps.size(), 5u);
  auto plan =
      arca::plan_retention(snaps, rule([](arca::RetentionPolicy& p) { p.within = arca::parse_span("30d"); }), {}, now);
  auto k = kept(plan);
  EXPECT_TRUE(has(k, planted.id)) << "a future-dated point is evidence: kept";
  EXPECT_FALSE(has(k, genuine[0].id)) << "40 days before the newest genuine point";
  for (size_t i = 1; i < genuine.size(); i++) EXPECT_TRUE(has(k, genuine[i].id)) << i;
  for (const auto& p : plan.items) EXPECT_EQ(!p.future.empty(), p.snap->id == planted.id);

  plan = arca::plan_retention(snaps, rule([](arca::RetentionPolicy& p) { p.last = 1; }), {}, now);
  k = kept(plan);
  EXPECT_EQ(k.size(), 2u);
  EXPECT_TRUE(has(k, genuine.back().id));
  EXPECT_TRUE(has(k, planted.id));
}

TEST_F(PlantedRepo, LatestIsTheNewestGenuinePoint) {
  std::vector<std::string> warnings;
  repo->set_warning_handler([&](const std::string& m) { warnings.push_back(m); });
  EXPECT_EQ(repo->find_snapshot("latest").id, genuine.back().id);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find(planted.id.short_hex()), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("never picks a future-dated point"), std::string::npos) << warnings[0];

  arca::SnapshotFilter f;
  f.hosts = {"web1"};
  EXPECT_EQ(arca::resolve_snapshot(*repo, "latest", f).id, genuine.back().id);
  EXPECT_EQ(arca::latest_source_snapshot(*repo, "files", "/srv/data")->id, genuine.back().id);
  // By id it can still be looked at.
  EXPECT_EQ(repo->find_snapshot(planted.id.hex()).id, planted.id);
}

TEST_F(PlantedRepo, EveryPointNamesTheKeyThatWroteIt) {
  for (const auto& s : repo->list_snapshots())
    EXPECT_EQ(s.key_id, s.id == planted.id ? host_key : repo->key_id()) << s.time;
  // Points of older versions carry none.
  arca::Snapshot old = arca::Snapshot::from_json(point("2020-01-01T00:00:00Z").to_json(), arca::random_id());
  EXPECT_EQ(old.key_id, "");
}

// Any key holder can seal a point naming any key id: the signature tells the true record from a
// claim.
TEST_F(PlantedRepo, SignaturesProveTheKeyRecord) {
  auto public_keys = arca::signing_public_keys(repo->backend());
  ASSERT_EQ(public_keys.size(), 2u);
  for (const auto& s : repo->list_snapshots())
    EXPECT_EQ(arca::verify_point(s, public_keys), arca::PointSignature::Verified) << s.time;

  arca::Credentials host;
  host.passphrase = "host";
  auto appender = arca::Repository::open(std::make_unique<arca::LocalBackend>(dir.path + "/repo"), host);
  auto plant = [&](nlohmann::json j) {
    arca::Id id = arca::random_id();
    j["id"] = id.hex();
    appender->save_object("snapshots/" + id.hex(), arca::as_view(j.dump()));
    return id;
  };
  nlohmann::json claim = point(rfc3339(now - 3600)).to_json();
  claim["key_id"] = repo->key_id();  // the operator's key, unsigned
  arca::Id unsigned_claim = plant(claim);
  claim["signature"] =
      arca::to_base64(arca::sign_message(arca::new_signing_key().seed, arca::as_view(std::string("x"))));
  arca::Id bad_signature = plant(claim);
  // A genuine signed point copied under another name.
  arca::Bytes genuine_text = repo->load_object("snapshots/" + genuine.back().id.hex());
  arca::Id copy = plant(nlohmann::json::parse(genuine_text.begin(), genuine_text.end()));
  for (const auto& s : repo->list_snapshots())
    if (s.id == unsigned_claim || s.id == bad_signature || s.id == copy) {
      EXPECT_EQ(arca::verify_point(s, public_keys), arca::PointSignature::Bad) << s.id.short_hex();
    }

  arca::ProgressCounters progress;
  auto r = arca::check_repository(*repo, {}, progress);
  size_t forged = 0;
  for (const auto& w : r.warnings) forged += w.message.find("signature does not verify") != std::string::npos;
  EXPECT_EQ(forged, 3u);
}

TEST_F(PlantedRepo, CheckWarnsWithoutCallingItDamage) {
  arca::ProgressCounters progress;
  auto r = arca::check_repository(*repo, {}, progress);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].object, "snapshots/" + planted.id.hex());
  EXPECT_NE(r.warnings[0].message.find("future-dated"), std::string::npos);
  for (const auto& e : r.errors) EXPECT_EQ(e.message.find("future"), std::string::npos) << e.message;
}

TEST(FuturePoints, ClockSkewAllowance) {
  int64_t now = 1800000000;
  EXPECT_EQ(arca::future_dated(point(rfc3339(now + arca::kClockSkewSeconds)), now), "");
  EXPECT_NE(arca::future_dated(point(rfc3339(now + arca::kClockSkewSeconds + 1)), now), "");
  EXPECT_NE(arca::future_dated(point("2099-01-01T00:00:00Z"), now).find("ahead of this machine's clock"),
            std::string::npos);
  // Another zone: 23:00-05:00 is 04:00Z the next day.
  EXPECT_NE(arca::future_dated(point(rfc3339(now).substr(0, 10) + "T23:00:00-23:00"), now), "");
}

// Seconds written as 1e300 (or a year far out) parse as a double no integer can hold: the time is
// "not a valid time" (kept, never anchors, never latest), not a float-cast overflow.
TEST(FuturePoints, TimesOutOfRangeAreNotCast) {
  for (std::string bad : {"2026-01-01T00:00:1e300Z", "2026-01-01T00:00:-1e300Z", "2026-01-01T00:00:nanZ",
                          "2026-01-01T00:00:infZ", "not a time"}) {
    arca::Snapshot s = point(bad);
    EXPECT_FALSE(arca::point_time(s)) << bad;
    EXPECT_NE(arca::future_dated(s, 1800000000).find("is not a valid time"), std::string::npos) << bad;
  }
  int64_t now = 1800000000;
  std::vector<arca::Snapshot> snaps{point(rfc3339(now - 40 * kDay)), point("2026-01-01T00:00:1e300Z"),
                                    point(rfc3339(now - kDay))};
  for (auto& s : snaps) s.id = arca::random_id();
  auto plan =
      arca::plan_retention(snaps, rule([](arca::RetentionPolicy& p) { p.within = arca::parse_span("30d"); }), {}, now);
  auto k = kept(plan);
  EXPECT_EQ(k.size(), 2u);
  EXPECT_TRUE(has(k, snaps[1].id));
  EXPECT_TRUE(has(k, snaps[2].id));
  std::vector<std::string> skipped;
  EXPECT_EQ(arca::newest_point(
                snaps, [](const arca::Snapshot&) { return true; }, now, skipped)
                ->id,
            snaps[2].id);
  EXPECT_EQ(skipped.size(), 1u);
}

TEST(FuturePoints, StatsThatAreNoCountsAreDamageNotCast) {
  nlohmann::json j = point("2026-01-01T00:00:00Z").to_json();
  for (nlohmann::json bad : {nlohmann::json(1e300), nlohmann::json(-1), nlohmann::json(2.5), nlohmann::json("7")}) {
    j["stats"]["files"] = bad;
    try {
      arca::Snapshot::from_json(j, arca::random_id());
      ADD_FAILURE() << bad.dump();
    } catch (const arca::Error& e) {
      EXPECT_EQ(e.kind(), arca::ErrorKind::Corrupt) << e.what();
      EXPECT_NE(std::string(e.what()).find("stats.files"), std::string::npos) << e.what();
    }
  }
}

// One newer point that makes a run remove more than it keeps (a source resuming after a pause, or
// a point planted within the allowance) asks first; ordinary runs do not.
TEST(FuturePoints, OneNewerPointThatRemovesMoreThanItKeepsAsks) {
  int64_t now = 1800000000;
  std::vector<arca::Snapshot> snaps;
  for (int d : {60, 59, 58, 57, 0}) snaps.push_back(point(rfc3339(now - d * kDay)));
  for (auto& s : snaps) s.id = arca::random_id();
  auto within30 = rule([](arca::RetentionPolicy& p) { p.within = arca::parse_span("30d"); });
  auto plan = arca::plan_retention(snaps, within30, {}, now);
  ASSERT_EQ(plan.confirm.size(), 1u);
  EXPECT_NE(plan.confirm[0].find(snaps.back().id.short_hex()), std::string::npos) << plan.confirm[0];
  EXPECT_NE(plan.confirm[0].find("remove 4 point(s) that would be kept without it"), std::string::npos)
      << plan.confirm[0];

  // Daily points for 90 days, hourly for 40 days: the usual rules need no confirmation.
  std::vector<arca::Snapshot> daily, hourly;
  for (int d = 90; d >= 0; d--) daily.push_back(point(rfc3339(now - d * kDay)));
  for (int h = 40 * 24; h >= 0; h--) hourly.push_back(point(rfc3339(now - h * 3600)));
  for (auto* v : {&daily, &hourly})
    for (auto& s : *v) s.id = arca::random_id();
  EXPECT_TRUE(arca::plan_retention(daily, within30, {}, now).confirm.empty());
  EXPECT_TRUE(arca::plan_retention(daily, rule([](arca::RetentionPolicy& p) { p.last = 1; }), {}, now).confirm.empty());
  auto dw = rule([](arca::RetentionPolicy& p) { p.daily = 7, p.weekly = 4, p.monthly = 12; });
  EXPECT_TRUE(arca::plan_retention(hourly, dw, {}, now).confirm.empty());
  EXPECT_TRUE(arca::plan_retention(hourly, within30, {}, now).confirm.empty());
}

// Two points planted just inside the allowance on a source that stopped (issue 18 #5 of the
// review): one asked first, but a second made the newest one's re-plan keep nothing more, and
// forget removed all five genuine points without asking. Every k newest up to the number kept
// is tried.
TEST(FuturePoints, SeveralNewerPointsThatRemoveMoreThanTheRunKeepsAsk) {
  int64_t now = 1800000000;
  auto within30 = rule([](arca::RetentionPolicy& p) { p.within = arca::parse_span("30d"); });
  std::vector<arca::Snapshot> snaps;
  for (int d : {45, 44, 43, 42, 41}) snaps.push_back(point(rfc3339(now - d * kDay)));
  snaps.push_back(point(rfc3339(now + 200)));
  for (auto& s : snaps) s.id = arca::random_id();
  auto plan = arca::plan_retention(snaps, within30, {}, now);
  ASSERT_EQ(plan.confirm.size(), 1u);
  EXPECT_NE(plan.confirm[0].find("the newest recovery point " + snaps[5].id.short_hex()), std::string::npos)
      << plan.confirm[0];

  snaps.push_back(point(rfc3339(now + 230)));
  snaps.back().id = arca::random_id();
  snaps.back().key_id = "feedc0de12345678";
  plan = arca::plan_retention(snaps, within30, {}, now);
  ASSERT_EQ(plan.removed(), 5u);
  ASSERT_EQ(plan.confirm.size(), 1u) << "two planted points must ask too";
  const std::string& why = plan.confirm[0];
  EXPECT_NE(why.find("the 2 newest recovery points " + snaps[6].id.short_hex()), std::string::npos) << why;
  EXPECT_NE(why.find(snaps[5].id.short_hex()), std::string::npos) << why;
  EXPECT_NE(why.find("written by key feedc0de, unsigned"), std::string::npos) << why;
  EXPECT_NE(why.find("remove 5 point(s) that would be kept without them (5 removed, 2 kept)"), std::string::npos)
      << why;

  // Three: still asked (5 removed because of them > 1.5 x 3 kept).
  snaps.push_back(point(rfc3339(now + 260)));
  snaps.back().id = arca::random_id();
  plan = arca::plan_retention(snaps, within30, {}, now);
  ASSERT_EQ(plan.confirm.size(), 1u);
  EXPECT_NE(plan.confirm[0].find("the 3 newest recovery points"), std::string::npos) << plan.confirm[0];
}

// The generalised question stays quiet on ordinary schedules, also on a first run over a long
// history (where the run removes far more than it keeps).
TEST(FuturePoints, OrdinarySchedulesDoNotAsk) {
  int64_t now = 1800000000;
  auto ids = [](std::vector<arca::Snapshot>& v) {
    for (auto& s : v) s.id = arca::random_id();
  };
  std::vector<arca::Snapshot> daily, hourly, resumed, twice_daily;
  for (int d = 400; d >= 0; d--) daily.push_back(point(rfc3339(now - d * kDay)));
  for (int h = 60 * 24; h >= 0; h--) hourly.push_back(point(rfc3339(now - h * 3600)));
  // Daily for a year, a pause of 5 days, then three days of backups again.
  for (int d = 370; d >= 8; d--) resumed.push_back(point(rfc3339(now - d * kDay)));
  for (int d = 2; d >= 0; d--) resumed.push_back(point(rfc3339(now - d * kDay)));
  for (int h = 90 * 24; h >= 0; h -= 12) twice_daily.push_back(point(rfc3339(now - h * 3600)));
  for (auto* v : {&daily, &hourly, &resumed, &twice_daily}) ids(*v);
  std::vector<std::pair<std::string, arca::RetentionConfig>> rules{
      {"within 30d", rule([](arca::RetentionPolicy& p) { p.within = arca::parse_span("30d"); })},
      {"last 1", rule([](arca::RetentionPolicy& p) { p.last = 1; })},
      {"last 7", rule([](arca::RetentionPolicy& p) { p.last = 7; })},
      {"daily 7 weekly 4 monthly 12",
       rule([](arca::RetentionPolicy& p) { p.daily = 7, p.weekly = 4, p.monthly = 12; })},
      {"hourly 24 daily 7", rule([](arca::RetentionPolicy& p) { p.hourly = 24, p.daily = 7; })},
      {"within-daily 30d", rule([](arca::RetentionPolicy& p) { p.within_daily = arca::parse_span("30d"); })},
  };
  for (const auto& [name, cfg] : rules)
    for (const auto* v : {&daily, &hourly, &resumed, &twice_daily}) {
      auto plan = arca::plan_retention(*v, cfg, {}, now);
      EXPECT_TRUE(plan.confirm.empty()) << name << " over " << v->size() << " points: " << plan.confirm[0];
    }
}

// A time with an offset ("23:00+22:00" is 01:00Z) is read as UTC: shown, sorted and compared as
// such everywhere, not as "23:00 (UTC)" (issue 18 #8 of the review).
TEST(FuturePoints, TimesWithAnOffsetAreReadAsUtc) {
  auto read = [](const std::string& time) {
    return arca::Snapshot::from_json(point(time).to_json(), arca::random_id()).time;
  };
  EXPECT_EQ(read("2026-12-07T23:00:00+22:00"), "2026-12-07T01:00:00Z");
  EXPECT_EQ(read("2026-12-07T23:00:00.123456-02:30"), "2026-12-08T01:30:00.123456Z");
  EXPECT_EQ(read("2026-01-01T00:30:00+01:00"), "2025-12-31T23:30:00Z");
  EXPECT_EQ(read("2026-12-07T01:00:00.500000Z"), "2026-12-07T01:00:00.500000Z");
  EXPECT_EQ(read("2026-01-01T00:00:1e300Z"), "2026-01-01T00:00:1e300Z") << "not a time: left as written";
  EXPECT_EQ(read("not a time"), "not a time");

  TempDir dir;
  auto repo = make_test_repo(dir.path + "/repo");
  arca::Snapshot late = point("2026-12-07T02:00:00Z"), early = point("2026-12-07T23:00:00+22:00");
  repo->save_snapshot(late);
  repo->save_snapshot(early);
  auto snaps = repo->list_snapshots();
  ASSERT_EQ(snaps.size(), 2u);
  EXPECT_EQ(snaps[0].id, early.id) << "01:00Z sorts before 02:00Z";
  EXPECT_EQ(snaps[0].time, "2026-12-07T01:00:00Z");
  EXPECT_EQ(arca::verify_point(snaps[0], arca::signing_public_keys(repo->backend())), arca::PointSignature::Verified)
      << "the signature covers the stored text, not the UTC reading";
}

}  // namespace
