// The SQLite job catalog (src/server/sqlite_catalog.cpp): every Catalog method, the refused state
// transitions, concurrent writers, reopening, migrations, damaged files and the file's mode.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>
#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "mem_repo.h"
#include "server/catalog.h"
#include "server/catalog_rebuild.h"
#include "server/sqlite_catalog.h"
#include "server/sqlite_schema.h"
#include "test_util.h"

using namespace arca;
using namespace arca::server;
using arca::testing::kind_of;
using arca::testing::noise;
using arca::testing::save_file_point;

namespace {

JobRecord pending(const std::string& plan, double created, const std::string& source = "db") {
  JobRecord j;
  j.plan = plan;
  j.kind = JobKind::Backup;
  j.source = source;
  j.repository = "main";
  j.trigger = "schedule";
  j.scheduled_at = created;
  j.created_at = created;
  j.start_deadline = created + 3600;
  return j;
}

JobRecord final_of(const JobRecord& j, JobState state, double at) {
  JobRecord f = j;
  f.state = state;
  f.finished_at = at;
  return f;
}

RecoveryPointRecord point(const std::string& repo, const std::string& id, const std::string& source, double time,
                          bool partial = false) {
  RecoveryPointRecord p;
  p.repository = repo;
  p.snapshot_id = id;
  p.kind = "postgres";
  p.source = source;
  p.host = "h1";
  p.time = time;
  p.data_time = time - 5;
  p.size = 1234567890123ULL;
  p.partial = partial;
  return p;
}

// Runs one statement directly on the file (to set up what the catalog must cope with).
void raw_exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

std::string query_plan(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  std::string plan;
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, ("EXPLAIN QUERY PLAN " + sql).c_str(), -1, &st, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  while (sqlite3_step(st) == SQLITE_ROW) plan += std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 3))) + "\n";
  sqlite3_finalize(st);
  sqlite3_close(db);
  return plan;
}

}  // namespace

TEST(ServerCatalog, CreateStartFinishJob) {
  TempDir d;
  auto c = open_sqlite_catalog(d.path + "/catalog.db");
  JobRecord j = pending("pg-daily", 100);
  j.result = nullptr;
  int64_t id = c->create_job(j);
  EXPECT_GT(id, 0);
  EXPECT_EQ(j.id, id);
  JobRecord k = pending("pg-daily", 101);
  EXPECT_EQ(c->create_job(k), id + 1);

  auto got = c->job(id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->plan, "pg-daily");
  EXPECT_EQ(got->state, JobState::Pending);
  EXPECT_EQ(got->trigger, "schedule");
  EXPECT_DOUBLE_EQ(got->start_deadline, 3700);
  EXPECT_TRUE(got->result.is_null());

  EXPECT_TRUE(c->start_job(id, "srv-1", 110, 140));
  EXPECT_FALSE(c->start_job(id, "srv-2", 111, 141)) << "only a PENDING job starts";
  got = c->job(id);
  EXPECT_EQ(got->state, JobState::Running);
  EXPECT_EQ(got->owner, "srv-1");
  EXPECT_DOUBLE_EQ(got->started_at, 110);
  EXPECT_DOUBLE_EQ(got->lease_until, 140);

  c->renew_leases("srv-1", 200);
  c->renew_leases("srv-2", 999);
  EXPECT_DOUBLE_EQ(c->job(id)->lease_until, 200);

  JobRecord f = final_of(*got, JobState::Partial, 150);
  f.reason = "2 files unreadable";
  f.warnings = 2;
  f.snapshot_id = "abc123";
  f.bytes_added = 5'000'000'000ULL;
  f.result = {{"files", 10}, {"nested", {{"x", "y"}}}};
  EXPECT_TRUE(c->finish_job(f));
  got = c->job(id);
  EXPECT_EQ(got->state, JobState::Partial);
  EXPECT_DOUBLE_EQ(got->finished_at, 150);
  EXPECT_EQ(got->reason, "2 files unreadable");
  EXPECT_EQ(got->warnings, 2);
  EXPECT_EQ(got->snapshot_id, "abc123");
  EXPECT_EQ(got->bytes_added, 5'000'000'000ULL);
  EXPECT_EQ(got->result, f.result);

  EXPECT_FALSE(c->job(id + 100));
}

TEST(ServerCatalog, FinalStateIsNeverChanged) {
  TempDir d;
  auto c = open_sqlite_catalog(d.path + "/c.db");
  JobRecord j = pending("p", 1);
  c->create_job(j);
  EXPECT_TRUE(c->finish_job(final_of(j, JobState::Expired, 5)));  // a PENDING job may end (expired)
  EXPECT_FALSE(c->finish_job(final_of(j, JobState::Success, 6)));
  EXPECT_FALSE(c->start_job(j.id, "srv", 7, 8)) << "a final job never starts again";
  auto got = c->job(j.id);
  EXPECT_EQ(got->state, JobState::Expired);
  EXPECT_DOUBLE_EQ(got->finished_at, 5);
  EXPECT_EQ(kind_of([&] { c->finish_job(final_of(j, JobState::Running, 9)); }), ErrorKind::Usage);
  JobRecord missing = final_of(j, JobState::Success, 1);
  missing.id = 999;
  EXPECT_FALSE(c->finish_job(missing));
}

TEST(ServerCatalog, InterruptRunningAndPendingJobs) {
  TempDir d;
  auto c = open_sqlite_catalog(d.path + "/c.db");
  JobRecord a = pending("p", 1), b = pending("p", 2), p = pending("q", 3), done = pending("q", 4);
  for (JobRecord* j : {&a, &b, &p, &done}) c->create_job(*j);
  c->start_job(a.id, "srv-1", 10, 20);
  c->start_job(b.id, "srv-old", 11, 21);
  c->start_job(done.id, "srv-1", 12, 22);
  c->finish_job(final_of(done, JobState::Success, 13));

  auto interrupted = c->interrupt_running(50, "the server stopped while it ran");
  ASSERT_EQ(interrupted.size(), 2u);
  EXPECT_EQ(interrupted[0].id, a.id);
  EXPECT_EQ(interrupted[1].id, b.id);
  for (const auto& j : interrupted) {
    EXPECT_EQ(j.state, JobState::Interrupted);
    EXPECT_DOUBLE_EQ(j.finished_at, 50);
    EXPECT_EQ(j.reason, "the server stopped while it ran");
    EXPECT_EQ(c->job(j.id)->state, JobState::Interrupted);
  }
  EXPECT_EQ(c->job(done.id)->state, JobState::Success);
  EXPECT_TRUE(c->interrupt_running(60, "again").empty());

  auto pend = c->pending_jobs();
  ASSERT_EQ(pend.size(), 1u);
  EXPECT_EQ(pend[0].id, p.id);
}

TEST(ServerCatalog, JobsFilterAndPaging) {
  TempDir d;
  auto c = open_sqlite_catalog(d.path + "/c.db");
  std::vector<int64_t> ids;
  for (int i = 0; i < 10; i++) {
    JobRecord j = pending(i % 2 ? "odd" : "even", 100 + i, i < 5 ? "db" : "files");
    if (i == 9) j.kind = JobKind::Verify;
    ids.push_back(c->create_job(j));
    if (i % 3 == 0) c->finish_job(final_of(j, JobState::Failed, 200 + i));
  }
  JobFilter all;
  auto js = c->jobs(all);
  ASSERT_EQ(js.size(), 10u);
  EXPECT_EQ(js.front().id, ids[9]) << "newest first";

  JobFilter f;
  f.plan = "odd";
  js = c->jobs(f);
  ASSERT_EQ(js.size(), 5u);
  for (const auto& j : js) EXPECT_EQ(j.plan, "odd");

  f.state = JobState::Failed;  // odd and failed: 3 and 9
  js = c->jobs(f);
  ASSERT_EQ(js.size(), 2u);
  EXPECT_EQ(js[0].id, ids[9]);
  EXPECT_EQ(js[1].id, ids[3]);

  JobFilter s;
  s.source = "files";
  s.kind = JobKind::Backup;
  EXPECT_EQ(c->jobs(s).size(), 4u);
  s.repository = "other";
  EXPECT_TRUE(c->jobs(s).empty());

  JobFilter since;
  since.since = 107;
  EXPECT_EQ(c->jobs(since).size(), 3u);

  JobFilter page;
  page.limit = 4;
  auto p1 = c->jobs(page);
  ASSERT_EQ(p1.size(), 4u);
  page.before_id = p1.back().id;
  auto p2 = c->jobs(page);
  ASSERT_EQ(p2.size(), 4u);
  EXPECT_EQ(p2.front().id, p1.back().id - 1);
}

TEST(ServerCatalog, EventsInOrderWithFields) {
  TempDir d;
  auto c = open_sqlite_catalog(d.path + "/c.db");
  JobRecord j = pending("p", 1);
  c->create_job(j);
  std::vector<JobEvent> batch;
  for (int i = 0; i < 3; i++) {
    JobEvent e;
    e.time = 10 + i;
    e.event = Event{i == 2 ? EventLevel::Warning : EventLevel::Info, "backup.step", "step " + std::to_string(i),
                    {{"b", "2"}, {"a", "1"}, {"b", "3"}}};
    batch.push_back(e);
  }
  c->add_events(j.id, batch);
  c->add_events(j.id, {batch[0]});
  auto ev = c->events(j.id);
  ASSERT_EQ(ev.size(), 4u);
  for (size_t i = 0; i < ev.size(); i++) {
    EXPECT_EQ(ev[i].seq, static_cast<int64_t>(i + 1)) << "seq assigned 1, 2, ... across calls";
    EXPECT_EQ(ev[i].job_id, j.id);
  }
  EXPECT_EQ(ev[2].event.level, EventLevel::Warning);
  EXPECT_EQ(ev[1].event.message, "step 1");
  EXPECT_DOUBLE_EQ(ev[1].time, 11);
  EXPECT_EQ(ev[0].event.fields, batch[0].event.fields) << "order and repeated keys kept";

  auto after = c->events(j.id, 2, 1);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].seq, 3);
  EXPECT_EQ(kind_of([&] { c->add_events(j.id + 50, batch); }), ErrorKind::NotFound);
}

TEST(ServerCatalog, PointsReplaceAddNewest) {
  TempDir d;
  auto c = open_sqlite_catalog(d.path + "/c.db");
  c->replace_points("main", {point("main", "s1", "db", 100), point("main", "s2", "db", 200),
                             point("main", "s3", "db", 300, true), point("main", "f1", "files", 250)});
  c->add_point(point("offsite", "s1", "db", 150));  // the same id in another repository is another point

  auto pts = c->points("db");
  ASSERT_EQ(pts.size(), 4u);
  EXPECT_EQ(pts[0].snapshot_id, "s3") << "newest first";
  EXPECT_EQ(pts[3].snapshot_id, "s1");
  EXPECT_EQ(pts[0].size, 1234567890123ULL);
  EXPECT_TRUE(pts[0].partial);
  EXPECT_EQ(c->points("db", "offsite").size(), 1u);
  EXPECT_EQ(c->points("db", "", 2).size(), 2u);

  auto newest = c->newest_points({"db", "nothing"});
  ASSERT_EQ(newest.size(), 1u) << "a source without points has no entry";
  EXPECT_EQ(newest.at("db").snapshot_id, "s2") << "a partial point is not restorable";
  EXPECT_DOUBLE_EQ(newest.at("db").data_time, 195);
  EXPECT_EQ(newest.at("db").host, "h1");

  // add_point updates a point it already has.
  auto s2 = point("main", "s2", "db", 200);
  s2.size = 7;
  c->add_point(s2);
  EXPECT_EQ(c->newest_points({"db"}).at("db").size, 7u);

  // After a prune the repository holds only s1: the catalog follows, other repositories untouched.
  c->replace_points("main", {point("main", "s1", "db", 100)});
  pts = c->points("db");
  ASSERT_EQ(pts.size(), 2u);
  EXPECT_EQ(pts[0].repository, "offsite");
  EXPECT_TRUE(c->points("files").empty());
  c->replace_points("main", {});
  EXPECT_EQ(c->points("db").size(), 1u);
}

TEST(ServerCatalog, Verifications) {
  TempDir d;
  auto c = open_sqlite_catalog(d.path + "/c.db");
  auto v = [](std::string source, std::string kind, double time, bool ok) {
    VerificationRecord r;
    r.job_id = static_cast<int64_t>(time);
    r.source = source;
    r.repository = "main";
    r.kind = kind;
    r.time = time;
    r.ok = ok;
    r.duration_s = 1.5;
    r.detail = ok ? "" : "checksum mismatch";
    return r;
  };
  c->add_verification(v("db", "pg-verify", 100, true));
  c->add_verification(v("db", "pg-verify", 300, false));
  c->add_verification(v("db", "pg-verify", 200, true));
  c->add_verification(v("db", "check", 50, true));
  c->add_verification(v("cache", "redis-verify", 70, true));

  auto last = c->last_verifications();
  ASSERT_EQ(last.size(), 3u);
  EXPECT_EQ(last[0].source, "cache");
  EXPECT_EQ(last[1].kind, "check");
  EXPECT_EQ(last[2].kind, "pg-verify");
  EXPECT_DOUBLE_EQ(last[2].time, 300);
  EXPECT_FALSE(last[2].ok);
  EXPECT_EQ(last[2].detail, "checksum mismatch");
  EXPECT_EQ(last[2].job_id, 300);

  auto ok = c->last_successful_verifications();
  ASSERT_EQ(ok.size(), 3u);
  EXPECT_EQ(ok[2].kind, "pg-verify");
  EXPECT_DOUBLE_EQ(ok[2].time, 200) << "the newest that passed, not the newest";
  EXPECT_DOUBLE_EQ(ok[2].duration_s, 1.5);
  EXPECT_TRUE(ok[2].ok);
  c->add_verification(v("files", "check", 80, false));
  EXPECT_EQ(c->last_verifications().size(), 4u) << "what the catalog remembers follows every new verification";
  EXPECT_EQ(c->last_successful_verifications().size(), 3u) << "a source whose verifications all failed has none";
  c->add_verification(v("db", "pg-verify", 400, true));
  EXPECT_DOUBLE_EQ(c->last_successful_verifications()[2].time, 400);
}

TEST(ServerCatalog, PlanState) {
  TempDir d;
  auto c = open_sqlite_catalog(d.path + "/c.db");
  EXPECT_FALSE(c->plan_state("p"));
  PlanState s{"p", true, 1000, 900, "h1", 950};
  c->put_plan_state(s);
  c->put_plan_state(PlanState{"a", false, 0, 0, "", 1});
  s.paused = false;
  s.next_due = 2000;
  s.config_hash = "h2";
  c->put_plan_state(s);
  auto got = c->plan_state("p");
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->paused);
  EXPECT_DOUBLE_EQ(got->next_due, 2000);
  EXPECT_DOUBLE_EQ(got->last_scheduled, 900);
  EXPECT_EQ(got->config_hash, "h2");
  auto all = c->plan_states();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].plan, "a");
}

TEST(ServerCatalog, Tokens) {
  TempDir d;
  auto c = open_sqlite_catalog(d.path + "/c.db");
  c->add_token(TokenRecord{"tok_1", "grafana", "viewer", "aa11", 10, 0, false});
  c->add_token(TokenRecord{"tok_2", "ops", "admin", "bb22", 20, 0, false});
  EXPECT_EQ(kind_of([&] { c->add_token(TokenRecord{"tok_3", "dup", "viewer", "aa11", 30, 0, false}); }),
            ErrorKind::Conflict)
      << "a hash is unique";
  auto t = c->token_by_hash("bb22");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->id, "tok_2");
  EXPECT_EQ(t->role, "admin");
  EXPECT_FALSE(c->token_by_hash("cc33"));

  c->touch_token("tok_2", 99);
  EXPECT_DOUBLE_EQ(c->token_by_hash("bb22")->last_used_at, 99);
  EXPECT_TRUE(c->revoke_token("tok_2"));
  EXPECT_FALSE(c->revoke_token("tok_9"));
  t = c->token_by_hash("bb22");
  ASSERT_TRUE(t) << "revoked tokens are still found (so that they are refused, not unknown)";
  EXPECT_TRUE(t->revoked);
  auto all = c->tokens();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, "tok_1");
  EXPECT_FALSE(all[0].revoked);
}

TEST(ServerCatalog, DeleteJobsBeforeDeletesTheirEvents) {
  TempDir d;
  auto c = open_sqlite_catalog(d.path + "/c.db");
  JobRecord old = pending("p", 1), recent = pending("p", 2), running = pending("p", 3);
  for (JobRecord* j : {&old, &recent, &running}) {
    c->create_job(*j);
    c->add_events(j->id, {JobEvent{0, 0, 1, Event{EventLevel::Info, "x", "y", {}}}});
  }
  c->finish_job(final_of(old, JobState::Success, 100));
  c->finish_job(final_of(recent, JobState::Failed, 300));
  c->start_job(running.id, "srv", 50, 60);

  EXPECT_EQ(c->delete_jobs_before(200), 1);
  EXPECT_FALSE(c->job(old.id));
  EXPECT_TRUE(c->events(old.id).empty());
  EXPECT_TRUE(c->job(recent.id));
  EXPECT_EQ(c->events(recent.id).size(), 1u);
  EXPECT_TRUE(c->job(running.id)) << "a job that has not ended is never deleted";

  // Ids are never reused, even when the newest job was deleted.
  EXPECT_EQ(c->delete_jobs_before(1000), 1);
  JobRecord next = pending("p", 4);
  EXPECT_GT(c->create_job(next), running.id);
}

TEST(ServerCatalog, ConcurrentWritersLoseNothing) {
  TempDir d;
  auto c = open_sqlite_catalog(d.path + "/c.db");
  constexpr int kThreads = 4, kJobs = 12;
  std::vector<std::thread> ts;
  std::atomic<int> started{0}, finished{0};
  for (int t = 0; t < kThreads; t++)
    ts.emplace_back([&, t] {
      for (int i = 0; i < kJobs; i++) {
        JobRecord j = pending("plan-" + std::to_string(t), i);
        c->create_job(j);
        if (c->start_job(j.id, "srv", i, i + 10)) started++;
        c->add_events(j.id, {JobEvent{0, 0, 1, Event{}}, JobEvent{0, 0, 2, Event{}}});
        if (c->finish_job(final_of(j, JobState::Success, i + 1))) finished++;
        c->jobs(JobFilter{});  // reads interleaved with the writes
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(started, kThreads * kJobs);
  EXPECT_EQ(finished, kThreads * kJobs);
  JobFilter f;
  f.limit = 1000;
  auto js = c->jobs(f);
  ASSERT_EQ(js.size(), static_cast<size_t>(kThreads * kJobs));
  for (const auto& j : js) {
    EXPECT_EQ(j.state, JobState::Success);
    EXPECT_EQ(c->events(j.id).size(), 2u);
  }
}

TEST(ServerCatalog, ReopenKeepsData) {
  TempDir d;
  std::string path = d.path + "/c.db";
  int64_t id;
  {
    auto c = open_sqlite_catalog(path);
    JobRecord j = pending("p", 1);
    id = c->create_job(j);
    c->start_job(id, "srv", 2, 3);
    c->add_point(point("main", "s1", "db", 100));
    c->put_plan_state(PlanState{"p", true, 5, 4, "h", 3});
  }
  auto c = open_sqlite_catalog(path);
  EXPECT_EQ(c->job(id)->state, JobState::Running);
  EXPECT_EQ(c->newest_points({"db"}).at("db").snapshot_id, "s1");
  EXPECT_TRUE(c->plan_state("p")->paused);
}

TEST(ServerCatalog, MigratesAnEmptyFileAndRefusesANewerOne) {
  TempDir d;
  std::string path = d.path + "/c.db";
  raw_exec(path, "PRAGMA user_version = 0");  // an SQLite file at version 0, without tables
  {
    auto c = open_sqlite_catalog(path);
    sqlite::Db db(path, false);
    EXPECT_EQ(sqlite::user_version(db), sqlite::catalog_schema_version());
    JobRecord j = pending("p", 1);
    EXPECT_GT(c->create_job(j), 0);
  }
  raw_exec(path, "PRAGMA user_version = " + std::to_string(sqlite::catalog_schema_version() + 1));
  try {
    open_sqlite_catalog(path);
    FAIL() << "a newer catalog was opened";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::FormatVersion);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
}

TEST(ServerCatalog, CorruptFileIsAClearError) {
  TempDir d;
  std::string path = d.path + "/c.db";
  {
    std::ofstream f(path, std::ios::binary);
    for (int i = 0; i < 4096; i++) f.put(static_cast<char>((i * 7919) % 251));
  }
  try {
    open_sqlite_catalog(path);
    FAIL() << "garbage was opened as a catalog";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Corrupt);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("rebuild"), std::string::npos) << e.what();
    // A rebuild brings back recovery points, never tokens: the advice must say so.
    EXPECT_NE(std::string(e.what()).find("API tokens live only in the catalog: create them again with `arca server token create`"),
              std::string::npos)
        << e.what();
  }
}

TEST(ServerCatalog, FileModeAndDirectoryCreated) {
  TempDir d;
  std::string path = d.path + "/state/sub/catalog.db";
  mode_t old = umask(0);  // the catalog must not rely on the umask
  auto c = open_sqlite_catalog(path);
  umask(old);
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat((d.path + "/state").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  JobRecord j = pending("p", 1);
  c->create_job(j);  // the WAL file is created now: same mode as the catalog
  ASSERT_EQ(stat((path + "-wal").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u);
}

TEST(ServerCatalog, UnopenablePathIsAClearError) {
  TempDir d;
  std::string blocker = d.path + "/file";
  std::ofstream(blocker) << "x";
  std::string path = blocker + "/catalog.db";  // a directory that is a file
  try {
    open_sqlite_catalog(path);
    FAIL() << "opened a catalog under a file";
  } catch (const Error& e) {
    EXPECT_TRUE(e.kind() == ErrorKind::Io || e.kind() == ErrorKind::Usage) << e.what();
    EXPECT_NE(std::string(e.what()).find(blocker), std::string::npos) << e.what();
  }
  EXPECT_EQ(kind_of([&] { open_sqlite_catalog(d.path); }), ErrorKind::Usage) << "a directory is not a catalog";
}

// The status API's queries (newest job per plan, newest point per source, last verifications)
// must follow an index, whatever the table sizes.
TEST(ServerCatalog, StatusQueriesUseIndexes) {
  TempDir d;
  std::string path = d.path + "/c.db";
  open_sqlite_catalog(path);
  auto uses = [&](const std::string& sql, const std::string& index) {
    std::string plan = query_plan(path, sql);
    EXPECT_NE(plan.find(index), std::string::npos) << sql << "\n" << plan;
    EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << sql << "\n" << plan;
  };
  uses("SELECT * FROM jobs WHERE plan = 'p' ORDER BY id DESC LIMIT 1", "jobs_plan_id");
  uses("SELECT * FROM jobs WHERE plan = 'p' AND state = 'success' ORDER BY id DESC LIMIT 1", "jobs_plan_state_id");
  uses("SELECT * FROM jobs WHERE state = 'running' ORDER BY id DESC LIMIT 100", "jobs_state_id");
  uses("SELECT * FROM jobs WHERE source = 'db' ORDER BY id DESC LIMIT 100", "jobs_source_id");
  uses("SELECT * FROM recovery_points WHERE source = 'db' AND partial = 0 ORDER BY time DESC LIMIT 1",
       "recovery_points_source_time");
  uses("SELECT * FROM job_events WHERE job_id = 1 AND seq > 0 ORDER BY seq LIMIT 10", "PRIMARY KEY");
  uses("SELECT job_id, source, kind, max(time) FROM verifications GROUP BY source, kind ORDER BY source, kind",
       "verifications_source_kind_time");
}

TEST(ServerCatalog, InfoCountsWithoutCreating) {
  TempDir d;
  std::string path = d.path + "/c.db";
  EXPECT_EQ(kind_of([&] { sqlite_catalog_info(path); }), ErrorKind::NotFound);
  EXPECT_FALSE(std::filesystem::exists(path)) << "info never creates a catalog";
  {
    auto c = open_sqlite_catalog(path);
    for (int i = 0; i < 3; i++) {
      JobRecord j = pending("p", i);
      c->create_job(j);
    }
    c->add_point(point("main", "s1", "db", 1));
  }
  auto info = sqlite_catalog_info(path);
  EXPECT_EQ(info.path, path);
  EXPECT_EQ(info.schema_version, sqlite::catalog_schema_version());
  EXPECT_EQ(info.supported_version, sqlite::catalog_schema_version());
  EXPECT_EQ(info.rows["jobs"], 3);
  EXPECT_EQ(info.rows["recovery_points"], 1);
  EXPECT_EQ(info.rows["tokens"], 0);
  EXPECT_EQ(info.rows.size(), 6u);
  EXPECT_GT(info.file_bytes, 0u);
}

// Two good repositories and one missing: the good ones are rebuilt (stale points dropped), the
// missing one is reported and its catalog points are left alone.
TEST(ServerCatalog, RebuildFromRepositories) {
  TempDir d;
  std::string pw = d.path + "/pw";
  {
    std::ofstream(pw) << "pw\n";
  }
  auto a = make_test_repo(d.path + "/a");
  Snapshot s1 = save_file_point(*a, {noise(100)});
  Snapshot s2 = save_file_point(*a, {noise(200)});
  make_test_repo(d.path + "/b");  // empty

  ServerConfig config;
  for (const char* name : {"a", "b", "gone"}) {
    RepositoryConfig rc;
    rc.name = name;
    rc.location = d.path + "/" + name;
    rc.password.file = pw;
    config.repositories.push_back(rc);
  }
  auto c = open_sqlite_catalog(d.path + "/c.db");
  c->add_point(point("a", "stale", "db", 1));
  c->add_point(point("b", "stale", "db", 1));
  c->add_point(point("gone", "kept", "db", 1));

  auto r = rebuild_points(config, *c);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_TRUE(r[0].ok) << r[0].error;
  EXPECT_EQ(r[0].points, 2u);
  EXPECT_TRUE(r[1].ok) << r[1].error;
  EXPECT_EQ(r[1].points, 0u);
  EXPECT_FALSE(r[2].ok);
  EXPECT_EQ(r[2].error_kind, ErrorKind::NotFound);
  EXPECT_NE(r[2].error.find("gone"), std::string::npos) << r[2].error;

  auto pa = c->points("", "a");
  ASSERT_EQ(pa.size(), 2u);
  std::set<std::string> ids{pa[0].snapshot_id, pa[1].snapshot_id};
  EXPECT_EQ(ids, (std::set<std::string>{s1.id.hex(), s2.id.hex()}));
  EXPECT_EQ(pa[0].kind, "files");
  EXPECT_TRUE(c->points("", "b").empty());
  auto pg = c->points("", "gone");
  ASSERT_EQ(pg.size(), 1u);
  EXPECT_EQ(pg[0].snapshot_id, "kept");
}

// WAL mode: while another connection holds the write lock in the middle of a transaction, reads
// answer at once with the last committed state.
TEST(ServerCatalog, ReadsDoNotWaitForAWrite) {
  TempDir d;
  std::string path = d.path + "/c.db";
  auto c = open_sqlite_catalog(path);
  JobRecord j = pending("p", 1);
  c->create_job(j);
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE; UPDATE jobs SET state = 'failed'", nullptr, nullptr, nullptr),
            SQLITE_OK);
  auto t0 = std::chrono::steady_clock::now();
  auto got = c->job(j.id);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->state, JobState::Pending) << "the uncommitted write is not seen";
  EXPECT_EQ(c->jobs(JobFilter{}).size(), 1u);
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
}

// A second server on the same catalog would interrupt the first one's running jobs and run every
// plan twice: the catalog is claimed by one server at a time, and freed when it closes.
TEST(ServerCatalog, OneServerClaimsTheCatalogAtATime) {
  TempDir d;
  auto first = open_sqlite_catalog(d.path + "/catalog.db");
  first->claim_for_server("host-a:100");
  auto second = open_sqlite_catalog(d.path + "/catalog.db");
  try {
    second->claim_for_server("host-b:200");
    FAIL() << "a second server claimed a catalog in use";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Conflict);
    EXPECT_NE(std::string(e.what()).find("host-a:100"), std::string::npos) << e.what();
  }
  first.reset();
  EXPECT_NO_THROW(second->claim_for_server("host-b:200"));
}
