// run_job (src/server/job_runner.h) against local repositories: files backups with the point
// recorded, retention after a backup (applied to its source only; refused when it needs
// confirmation), check, verify, prune, and the outcome of failures and cancels. PostgreSQL, Redis
// and Kafka jobs run end to end against real servers (tests/e2e).
#include <sys/stat.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "mem_repo.h"
#include "ops/error_table.h"
#include "repo/writer_sessions.h"
#include "server/job_runner.h"
#include "test_util.h"

using namespace arca;
using namespace arca::server;
namespace fs = std::filesystem;
using arca::testing::noise;
using arca::testing::store_file_tree;

namespace {

void write_file(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

// RFC 3339 time `seconds` ago.
std::string rfc3339_ago(int64_t seconds) {
  time_t t = time(nullptr) - seconds;
  struct tm tm;
  gmtime_r(&t, &tm);
  char b[32];
  strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return b;
}

// Cancels the job when an event with `code` goes by.
class CancelOn : public EventSink {
 public:
  CancelOn(JobContext& ctx, std::string code) : ctx_(ctx), code_(std::move(code)) {}
  void emit(const Event& e) override {
    log.emit(e);
    if (e.code == code_) ctx_.cancel.cancel();
  }
  EventLog log;

 private:
  JobContext& ctx_;
  std::string code_;
};

class ServerJobRunner : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_path = tmp.path + "/repo";
    make_test_repo(repo_path);
    std::string pw = tmp.path + "/password";
    write_file(pw, "pw\n");
    chmod(pw.c_str(), 0600);
    RepositoryConfig rc;
    rc.name = "main";
    rc.location = repo_path;
    rc.password.file = pw;
    config.repositories.push_back(rc);
    write_file(tmp.path + "/docs/a.txt", "alpha");
    write_file(tmp.path + "/docs/sub/b.txt", "bravo bravo");
    write_file(tmp.path + "/other/c.txt", "charlie");
    config.sources.push_back(files_source("docs", {tmp.path + "/docs"}));
    config.sources.push_back(files_source("other", {tmp.path + "/other"}));
  }

  SourceConfig files_source(const std::string& name, std::vector<std::string> paths) {
    SourceConfig s;
    s.name = name;
    s.kind = SourceKind::Files;
    s.repository = "main";
    s.host = "testhost";
    s.paths = std::move(paths);
    return s;
  }

  static PlanConfig plan(const std::string& name, JobKind kind, const std::string& source,
                         const std::string& repository = "") {
    PlanConfig p;
    p.name = name;
    p.kind = kind;
    p.source = source;
    p.repository = repository;
    return p;
  }

  JobOutcome run(const PlanConfig& p, JobContext& ctx) {
    JobRecord job;
    job.id = ++next_id;
    job.plan = p.name;
    job.kind = p.kind;
    return run_job(config, p, job, ctx, runtime);
  }
  JobOutcome run(const PlanConfig& p) {
    JobContext ctx;
    ctx.events = &events;
    return run(p, ctx);
  }

  // Recovery points in the repository now, by configured source.
  size_t points_of(const std::string& source) {
    auto repo = open_test_repo(repo_path);
    auto all = point_records(*repo, "main", config.sources);
    return size_t(
        std::count_if(all.begin(), all.end(), [&](const RecoveryPointRecord& r) { return r.source == source; }));
  }

  bool has_event(const std::string& code) {
    auto list = events.events();
    return std::any_of(list.begin(), list.end(), [&](const Event& e) { return e.code == code; });
  }

  TempDir tmp;
  std::string repo_path;
  ServerConfig config;
  Runtime runtime;
  EventLog events;
  int64_t next_id = 0;
};

TEST_F(ServerJobRunner, FilesBackupSucceedsWithThePointRecorded) {
  JobOutcome o = run(plan("docs-nightly", JobKind::Backup, "docs"));
  ASSERT_EQ(o.state, JobState::Success) << o.reason;
  EXPECT_EQ(o.exit_code, 0);
  ASSERT_EQ(o.points.size(), 1u);
  EXPECT_EQ(o.points[0].snapshot_id, o.snapshot_id);
  EXPECT_EQ(o.points[0].source, "docs");
  EXPECT_EQ(o.points[0].repository, "main");
  EXPECT_EQ(o.points[0].host, "testhost");
  EXPECT_EQ(o.points_repository, "main");
  EXPECT_FALSE(o.points_complete);
  EXPECT_EQ(o.result["id"], o.snapshot_id);

  auto repo = open_test_repo(repo_path);
  auto snaps = repo->list_snapshots();
  ASSERT_EQ(snaps.size(), 1u);
  const Snapshot& s = snaps[0];
  EXPECT_EQ(s.id.hex(), o.snapshot_id);
  EXPECT_EQ(o.bytes_added, s.stats.stored_added);  // bytes_added is what the repository grew by
  EXPECT_GT(o.bytes_added, 0u);
  // The snapshot lists the files: docs/ with a.txt and sub/b.txt.
  Tree root = repo->load_tree(s.tree);
  ASSERT_EQ(root.nodes.size(), 1u);
  EXPECT_EQ(root.nodes[0].name, "docs");
  Tree docs = repo->load_tree(*root.nodes[0].subtree);
  ASSERT_EQ(docs.nodes.size(), 2u);
  EXPECT_EQ(docs.nodes[0].name, "a.txt");
  EXPECT_EQ(docs.nodes[0].size, 5u);
  EXPECT_EQ(docs.nodes[1].name, "sub");
  Tree sub = repo->load_tree(*docs.nodes[1].subtree);
  ASSERT_EQ(sub.nodes.size(), 1u);
  EXPECT_EQ(sub.nodes[0].name, "b.txt");

  EXPECT_TRUE(has_event("job.started"));
  EXPECT_TRUE(has_event("job.point_saved"));
  EXPECT_TRUE(has_event("job.finished"));
  auto rs = runtime.repository("main");
  ASSERT_TRUE(rs);
  EXPECT_TRUE(rs->reachable);
  EXPECT_GT(rs->checked_at, 0);
}

TEST_F(ServerJobRunner, RetentionAfterBackupKeepsLastTwoOfItsSourceOnly) {
  ASSERT_EQ(run(plan("other-nightly", JobKind::Backup, "other")).state, JobState::Success);
  PlanConfig p = plan("docs-nightly", JobKind::Backup, "docs");
  ops::KeepOptions keep;
  keep.last = 2;
  p.retention = keep;
  JobOutcome o;
  for (int i = 0; i < 3; i++) {
    o = run(p);
    ASSERT_EQ(o.state, JobState::Success) << o.reason;
  }
  EXPECT_EQ(points_of("docs"), 2u);
  EXPECT_EQ(points_of("other"), 1u);  // another source's point is not touched
  EXPECT_EQ(o.result["retention"]["removed"], 1);
  EXPECT_EQ(o.result["retention"]["applied"], true);
  // Points were removed: the outcome lists the repository's whole set for the catalog.
  EXPECT_TRUE(o.points_complete);
  EXPECT_EQ(o.points.size(), 3u);
  EXPECT_TRUE(has_event("job.retention_applied"));
}

TEST_F(ServerJobRunner, RetentionThatNeedsConfirmationRemovesNothingAndEndsPartial) {
  // Two points of "docs" from two days ago, then today's backup with keep-within 1h: the newest
  // point alone would make the run remove both older ones (a source back after a pause, or a
  // planted point), so forget asks for confirmation, which a server never gives.
  {
    auto repo = open_test_repo(repo_path);
    for (int i = 0; i < 2; i++) {
      BlobWriter writer(*repo);
      Snapshot s;
      s.time = rfc3339_ago(2 * 86400 - i * 60);
      s.tree = store_file_tree(*repo, writer, {noise(100)});
      writer.check_publishable();
      s.host = "testhost";
      s.paths = {tmp.path + "/docs"};
      repo->save_snapshot(s);
    }
  }
  ASSERT_EQ(points_of("docs"), 2u);
  PlanConfig p = plan("docs-nightly", JobKind::Backup, "docs");
  ops::KeepOptions keep;
  keep.within = "1h";
  p.retention = keep;
  JobOutcome o = run(p);
  ASSERT_EQ(o.state, JobState::Partial) << o.reason << o.result.dump();
  EXPECT_EQ(o.warnings, 1);
  EXPECT_EQ(o.exit_code, kExitPartial);
  EXPECT_NE(o.reason.find("needs confirmation"), std::string::npos) << o.reason;
  EXPECT_NE(o.reason.find("arca forget"), std::string::npos) << o.reason;
  EXPECT_EQ(o.result["retention"]["needs_confirmation"], true);
  EXPECT_EQ(o.result["retention"]["applied"], false);
  EXPECT_FALSE(o.snapshot_id.empty());  // the backup itself is saved
  EXPECT_EQ(points_of("docs"), 3u);     // and nothing was removed
  EXPECT_TRUE(has_event("job.retention_needs_confirmation"));
}

TEST_F(ServerJobRunner, CheckRecordsAVerification) {
  ASSERT_EQ(run(plan("docs-nightly", JobKind::Backup, "docs")).state, JobState::Success);
  JobOutcome o = run(plan("weekly-check", JobKind::Check, "", "main"));
  ASSERT_EQ(o.state, JobState::Success) << o.reason;
  ASSERT_EQ(o.verifications.size(), 1u);
  const VerificationRecord& v = o.verifications[0];
  EXPECT_EQ(v.kind, "check");
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.repository, "main");
  EXPECT_EQ(v.source, "");
  EXPECT_EQ(v.job_id, next_id);
  EXPECT_GT(v.time, 0);
  EXPECT_EQ(o.result["packs_read"], 0);
}

TEST_F(ServerJobRunner, CheckWithReadSubsetRecordsCheckReadData) {
  ASSERT_EQ(run(plan("docs-nightly", JobKind::Backup, "docs")).state, JobState::Success);
  PlanConfig p = plan("weekly-check", JobKind::Check, "", "main");
  p.read_data_subset = "100%";
  JobOutcome o = run(p);
  ASSERT_EQ(o.state, JobState::Success) << o.reason;
  ASSERT_EQ(o.verifications.size(), 1u);
  EXPECT_EQ(o.verifications[0].kind, "check-read-data");
  EXPECT_TRUE(o.verifications[0].ok);
  EXPECT_GT(o.result["packs_read"].get<int>(), 0);
}

TEST_F(ServerJobRunner, FilesVerifyReadsDataAndRecordsIt) {
  ASSERT_EQ(run(plan("docs-nightly", JobKind::Backup, "docs")).state, JobState::Success);
  PlanConfig p = plan("docs-verify", JobKind::Verify, "docs");
  p.read_data_subset = "100%";
  JobOutcome o = run(p);
  ASSERT_EQ(o.state, JobState::Success) << o.reason;
  ASSERT_EQ(o.verifications.size(), 1u);
  EXPECT_EQ(o.verifications[0].kind, "check-read-data");
  EXPECT_EQ(o.verifications[0].source, "docs");
  EXPECT_TRUE(o.verifications[0].ok);
  EXPECT_GT(o.result["packs_read"].get<int>(), 0);
  EXPECT_TRUE(has_event("job.verified"));
}

TEST_F(ServerJobRunner, FilesVerifyThatFindsDamageFails) {
  ASSERT_EQ(run(plan("docs-nightly", JobKind::Backup, "docs")).state, JobState::Success);
  // Damage every data pack: one byte flipped in the middle.
  int damaged = 0;
  for (const auto& e : fs::recursive_directory_iterator(repo_path + "/data")) {
    if (!e.is_regular_file()) continue;
    fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
    std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
    auto size = fs::file_size(e.path());
    f.seekg(std::streamoff(size / 2));
    char c = 0;
    f.get(c);
    f.seekp(std::streamoff(size / 2));
    f.put(char(c ^ 0x5a));
    damaged++;
  }
  ASSERT_GT(damaged, 0);
  PlanConfig p = plan("docs-verify", JobKind::Verify, "docs");
  p.read_data_subset = "100%";
  JobOutcome o = run(p);
  EXPECT_EQ(o.state, JobState::Failed);
  EXPECT_EQ(o.exit_code, kExitCorrupt);
  EXPECT_NE(o.reason.find("error"), std::string::npos) << o.reason;
  ASSERT_EQ(o.verifications.size(), 1u);
  EXPECT_FALSE(o.verifications[0].ok);
  EXPECT_FALSE(o.verifications[0].detail.empty());
}

TEST_F(ServerJobRunner, PruneReportsEveryPointOfTheRepository) {
  ASSERT_EQ(run(plan("docs-nightly", JobKind::Backup, "docs")).state, JobState::Success);
  ASSERT_EQ(run(plan("other-nightly", JobKind::Backup, "other")).state, JobState::Success);
  PlanConfig p = plan("weekly-prune", JobKind::Prune, "", "main");
  p.prune_grace = "0";
  JobOutcome o = run(p);
  ASSERT_EQ(o.state, JobState::Success) << o.reason;
  EXPECT_TRUE(o.points_complete);
  EXPECT_EQ(o.points_repository, "main");
  ASSERT_EQ(o.points.size(), 2u);
  std::vector<std::string> sources = {o.points[0].source, o.points[1].source};
  std::sort(sources.begin(), sources.end());
  EXPECT_EQ(sources, (std::vector<std::string>{"docs", "other"}));
  EXPECT_TRUE(o.result.contains("packs"));
  EXPECT_GT(runtime.repository("main")->stored_bytes, 0u);
}

// A prune plan with prune-grace: 0 is refused while a backup runs; the reason names the plan's
// field, not the CLI's --grace.
TEST_F(ServerJobRunner, PruneGraceZeroRefusalNamesTheField) {
  auto repo = open_test_repo(repo_path);
  std::string writer = register_writer(*repo);  // a backup of this process, running
  PlanConfig p = plan("weekly-prune", JobKind::Prune, "", "main");
  p.prune_grace = "0";
  JobOutcome o = run(p);
  unregister_writer(*repo, writer);
  EXPECT_EQ(o.state, JobState::Failed);
  EXPECT_EQ(o.exit_code, kExitConflict) << o.reason;
  EXPECT_NE(o.reason.find("prune-grace: 0 (plan 'weekly-prune') deletes at once"), std::string::npos) << o.reason;
  EXPECT_NE(o.reason.find("Give the plan a prune-grace span"), std::string::npos) << o.reason;
  EXPECT_EQ(o.reason.find("--grace"), std::string::npos) << o.reason;
}

TEST_F(ServerJobRunner, MissingRepositoryFailsWithNotFound) {
  config.repositories[0].location = tmp.path + "/no-such-repo";
  JobOutcome o = run(plan("docs-nightly", JobKind::Backup, "docs"));
  EXPECT_EQ(o.state, JobState::Failed);
  EXPECT_EQ(o.exit_code, 10);
  EXPECT_NE(o.reason.find("does not exist"), std::string::npos) << o.reason;
  auto rs = runtime.repository("main");
  ASSERT_TRUE(rs);
  EXPECT_FALSE(rs->reachable);
  EXPECT_EQ(rs->error, o.reason);
}

TEST_F(ServerJobRunner, UnknownSourceFailsAsAConfigurationError) {
  JobOutcome o = run(plan("ghost-nightly", JobKind::Backup, "ghost"));
  EXPECT_EQ(o.state, JobState::Failed);
  EXPECT_EQ(o.exit_code, kExitUsage);
  EXPECT_NE(o.reason.find("'ghost'"), std::string::npos) << o.reason;
}

TEST_F(ServerJobRunner, CancelledBeforeItStartsIsCanceled) {
  JobContext ctx;
  ctx.events = &events;
  ctx.cancel.cancel();
  JobOutcome o = run(plan("docs-nightly", JobKind::Backup, "docs"), ctx);
  EXPECT_EQ(o.state, JobState::Canceled);
  EXPECT_EQ(o.exit_code, kExitInterrupted);
  EXPECT_NE(o.reason.find("cancelled"), std::string::npos) << o.reason;
  EXPECT_EQ(points_of("docs"), 0u);
}

TEST_F(ServerJobRunner, CancelledWhileRunningIsCanceledAndStopsRetention) {
  PlanConfig p = plan("docs-nightly", JobKind::Backup, "docs");
  ops::KeepOptions keep;
  keep.last = 1;
  p.retention = keep;
  PlanConfig no_retention = p;
  no_retention.retention.reset();
  ASSERT_EQ(run(no_retention).state, JobState::Success);
  // The cancel comes once this run's point is saved, before its retention removes anything.
  JobContext ctx;
  CancelOn sink(ctx, "job.point_saved");
  ctx.events = &sink;
  JobOutcome o = run(p, ctx);
  EXPECT_EQ(o.state, JobState::Canceled) << o.reason;
  EXPECT_EQ(o.exit_code, kExitInterrupted);
  EXPECT_NE(o.reason.find("cancelled"), std::string::npos) << o.reason;
  EXPECT_FALSE(o.snapshot_id.empty());  // the point it saved is still reported
  EXPECT_EQ(points_of("docs"), 2u);     // keep-last 1 removed nothing
}

TEST_F(ServerJobRunner, MissingSourcePathFailsSayingWhy) {
  config.sources[0].paths = {tmp.path + "/vanished"};
  JobOutcome o = run(plan("docs-nightly", JobKind::Backup, "docs"));
  EXPECT_EQ(o.state, JobState::Failed);
  EXPECT_EQ(o.exit_code, kExitNotFound);
  EXPECT_NE(o.reason.find(tmp.path + "/vanished"), std::string::npos) << o.reason;
  EXPECT_EQ(points_of("docs"), 0u);
}

TEST_F(ServerJobRunner, OneMissingPathOfSeveralIsPartialSayingWhich) {
  config.sources[0].paths = {tmp.path + "/docs", tmp.path + "/vanished"};
  JobOutcome o = run(plan("docs-nightly", JobKind::Backup, "docs"));
  ASSERT_EQ(o.state, JobState::Partial) << o.reason;
  EXPECT_EQ(o.warnings, 1);
  EXPECT_EQ(o.exit_code, kExitPartial);
  EXPECT_NE(o.reason.find(tmp.path + "/vanished"), std::string::npos) << o.reason;
  ASSERT_EQ(o.points.size(), 1u);
  EXPECT_TRUE(o.points[0].partial);
}

}  // namespace
