// Drill plans in the server (docs/server.md, "Drill plans"): the drill file read with the
// configuration (objectives from the sources, the repository derived, the file's errors reported
// as the configuration's), drill jobs run through run_job against a local repository (record
// saved, per-component results), the catalog's drill results, and `catalog rebuild` reading the
// drill records back.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "drill/drill_record.h"
#include "server/catalog_rebuild.h"
#include "server/config.h"
#include "server/job_runner.h"
#include "test_util.h"

using namespace arca;
using namespace arca::server;
namespace fs = std::filesystem;

namespace {

void write_file(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

std::string all_errors(const ConfigLoad& r) {
  std::string all;
  for (const auto& e : r.errors) all += e.to_string("f") + "\n";
  return all;
}

// A configuration with two repositories, a PostgreSQL source with objectives and a files source,
// and one drill plan whose drill file is `drill_text`; `plan_more` adds to the plan.
struct DrillConfig {
  TempDir dir;
  ConfigLoad load(const std::string& drill_text, const std::string& plan_more = "") {
    write_file(dir.path + "/nightly.yaml", drill_text);
    std::string text = R"(repositories:
  main: {location: /srv/r, password-file: /etc/arca/pw}
  other: {location: /srv/o, password-file: /etc/arca/pw}
sources:
  db: {kind: postgres, repository: main, conninfo: "host=db1", objectives: {rpo: 5m, rto: 15m}}
  etc: {kind: files, repository: main, host: app-1, paths: [/etc/app]}
  logs: {kind: files, repository: other, host: app-1, paths: [/var/log/app]}
plans:
  drill-nightly:
    kind: drill
    drill: nightly.yaml
    schedule: {cron: "0 5 * * *"}
)" + plan_more;
    return parse_config(text, dir.path + "/server.yaml");
  }
};

const char* kTwoComponents = R"(drill: nightly
components:
  orders:
    kind: postgres
    source: db
  config:
    kind: files
    paths: [/etc/app]
    objectives: {rto: 1m}
)";

}  // namespace

TEST(ServerDrillConfig, ObjectivesComeFromTheSourcesAndTheRepositoryIsDerived) {
  DrillConfig c;
  ConfigLoad r = c.load(kTwoComponents);
  ASSERT_TRUE(r.config) << all_errors(r);
  const PlanConfig* p = r.config->plan("drill-nightly");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->kind, JobKind::Drill);
  EXPECT_EQ(p->drill_file, c.dir.path + "/nightly.yaml");
  EXPECT_EQ(p->repository, "main") << "both components' sources are in main";
  ASSERT_TRUE(p->drill);
  const auto* orders = p->drill->component("orders");
  ASSERT_TRUE(orders);
  EXPECT_EQ(orders->objectives.rpo_s, 300) << "from source db";
  EXPECT_EQ(orders->objectives.rto_s, 900);
  const auto* config = p->drill->component("config");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->objectives.rto_s, 60) << "the drill file's own objective wins";
  EXPECT_FALSE(config->objectives.rpo_s) << "source etc has no RPO objective";
}

TEST(ServerDrillConfig, ComponentsFromTwoRepositoriesNeedTheRepositoryNamed) {
  DrillConfig c;
  std::string drill = std::string(kTwoComponents) + "  logs:\n    kind: files\n    paths: [/var/log/app]\n";
  ConfigLoad r = c.load(drill);
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
  EXPECT_EQ(r.errors[0].field, "plans.drill-nightly");
  EXPECT_NE(r.errors[0].message.find("repositories main, other"), std::string::npos) << r.errors[0].message;
  EXPECT_NE(r.errors[0].message.find("repository: NAME"), std::string::npos);

  ConfigLoad named = c.load(drill, "    repository: other\n");
  ASSERT_TRUE(named.config) << all_errors(named);
  EXPECT_EQ(named.config->plan("drill-nightly")->repository, "other");
}

TEST(ServerDrillConfig, DrillFileErrorsAreTheConfigurationsWithTheirOwnLines) {
  DrillConfig c;
  ConfigLoad r = c.load("drill: nightly\ncomponents:\n  orders:\n    kind: postgress\n    source: db\n");
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
  const ConfigError& e = r.errors[0];
  EXPECT_EQ(e.field, "plans.drill-nightly.drill");
  EXPECT_EQ(e.line, 11) << "the plan's drill: line";
  // The drill file's own place and field, so the operator knows which file and line to fix.
  EXPECT_NE(e.message.find(c.dir.path + "/nightly.yaml:4:"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("components.orders.kind"), std::string::npos) << e.message;
}

TEST(ServerDrillConfig, MissingDrillFileAndMisplacedFieldsAreErrors) {
  DrillConfig c;
  ConfigLoad r = c.load(kTwoComponents);
  ASSERT_TRUE(r.config);
  fs::remove(c.dir.path + "/nightly.yaml");
  std::string text = "repositories:\n  main: {location: /srv/r, password-file: /etc/arca/pw}\n"
                     "sources:\n  etc: {kind: files, repository: main, paths: [/etc]}\n"
                     "plans:\n"
                     "  d: {kind: drill, drill: gone.yaml, repository: main, schedule: {every: 1d}}\n"
                     "  b: {kind: backup, source: etc, drill: x.yaml, schedule: {every: 1d}}\n"
                     "  n: {kind: drill, repository: main, schedule: {every: 1d}}\n";
  ConfigLoad bad = parse_config(text, c.dir.path + "/server.yaml");
  std::string all = all_errors(bad);
  ASSERT_EQ(bad.errors.size(), 3u) << all;
  EXPECT_NE(all.find("plans.d.drill: drill file " + c.dir.path + "/gone.yaml does not exist"), std::string::npos)
      << all;
  EXPECT_NE(all.find("plans.b.drill: applies to drill plans only"), std::string::npos) << all;
  EXPECT_NE(all.find("plans.n.drill: missing: a drill plan names its drill file"), std::string::npos) << all;
}

TEST(ServerDrillCatalog, NewestAndNewestPassedPerComponentAndRebuildsAreIdempotent) {
  TempDir dir;
  auto catalog = open_sqlite_catalog(dir.path + "/c.db");
  auto rec = [](const std::string& id, const std::string& comp, double time, bool passed) {
    DrillResultRecord d;
    d.drill_id = id;
    d.component = comp;
    d.drill = "nightly";
    d.kind = "postgres";
    d.source = "db";
    d.time = time;
    d.rto_s = 12.5;
    d.rpo_s = passed ? 0.5 : 900;
    d.rpo_objective_s = 300;
    d.rpo_ok = passed;
    d.validated = true;
    d.passed = passed;
    d.detail = passed ? "" : "RPO objective missed";
    return d;
  };
  catalog->add_drill_results({rec("a", "orders", 100, true), rec("a", "cache", 100, true)});
  catalog->add_drill_results({rec("b", "orders", 200, false)});
  catalog->add_drill_results({rec("b", "orders", 200, true)});  // the same record again: ignored

  auto last = catalog->last_drill_results();
  ASSERT_EQ(last.size(), 2u);
  EXPECT_EQ(last[0].component, "cache");
  EXPECT_EQ(last[1].component, "orders");
  EXPECT_EQ(last[1].drill_id, "b");
  EXPECT_FALSE(last[1].passed);
  EXPECT_EQ(last[1].rpo_ok, false);
  EXPECT_FALSE(last[1].rto_ok) << "no RTO objective: not judged";
  EXPECT_EQ(last[1].rpo_s, 900);
  EXPECT_EQ(last[1].detail, "RPO objective missed");

  auto passed = catalog->last_passed_drill_results();
  ASSERT_EQ(passed.size(), 2u);
  EXPECT_EQ(passed[1].component, "orders");
  EXPECT_EQ(passed[1].drill_id, "a") << "the newest that passed";
  EXPECT_EQ(passed[1].time, 100);
}

class ServerDrillJob : public ::testing::Test {
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
    SourceConfig s;
    s.name = "docs";
    s.kind = SourceKind::Files;
    s.repository = "main";
    s.host = "testhost";
    s.paths = {tmp.path + "/docs"};
    config.sources.push_back(s);
    fs::create_directories(tmp.path + "/scratch");
  }

  JobOutcome run(const PlanConfig& p) {
    JobRecord job;
    job.id = ++next_id;
    job.plan = p.name;
    job.kind = p.kind;
    JobContext ctx;
    ctx.events = &events;
    return run_job(config, p, job, ctx, runtime);
  }

  PlanConfig backup_plan() {
    PlanConfig p;
    p.name = "docs-nightly";
    p.kind = JobKind::Backup;
    p.source = "docs";
    return p;
  }

  // A drill plan of one files component restoring the docs source; `validate` is its validate block.
  PlanConfig drill_plan(const std::string& validate, const std::string& objectives = "") {
    std::string text = "drill: docs-drill\nscratch: " + tmp.path + "/scratch\ncomponents:\n  docs:\n"
                       "    kind: files\n    paths: [" + tmp.path + "/docs]\n    host: testhost\n" +
                       objectives + "    validate:\n" + validate;
    drill::DrillLoad load = drill::parse_drill(text, "docs-drill.yaml");
    EXPECT_TRUE(load.spec) << (load.errors.empty() ? "" : load.errors[0].to_string("docs-drill.yaml"));
    PlanConfig p;
    p.name = "drill-docs";
    p.kind = JobKind::Drill;
    p.repository = "main";
    p.drill_file = tmp.path + "/docs-drill.yaml";
    if (load.spec) p.drill = std::make_shared<const drill::DrillSpec>(*load.spec);
    return p;
  }

  TempDir tmp;
  std::string repo_path;
  ServerConfig config;
  Runtime runtime;
  EventLog events;
  int64_t next_id = 0;
};

TEST_F(ServerDrillJob, PassingDrillSucceedsWithItsRecordAndResults) {
  ASSERT_EQ(run(backup_plan()).state, JobState::Success);
  JobOutcome o = run(drill_plan("      files: [a.txt, sub/b.txt]\n"));
  ASSERT_EQ(o.state, JobState::Success) << o.reason;
  EXPECT_EQ(o.exit_code, 0);
  ASSERT_EQ(o.drill_results.size(), 1u);
  const DrillResultRecord& d = o.drill_results[0];
  EXPECT_EQ(d.drill, "docs-drill");
  EXPECT_EQ(d.component, "docs");
  EXPECT_EQ(d.kind, "files");
  EXPECT_EQ(d.source, "docs") << "the configured source, found by host and paths";
  EXPECT_EQ(d.repository, "main");
  EXPECT_TRUE(d.validated);
  EXPECT_TRUE(d.passed);
  EXPECT_GT(d.rto_s, 0);
  ASSERT_TRUE(d.rpo_s);
  EXPECT_GE(*d.rpo_s, 0);
  EXPECT_EQ(o.result["id"], d.drill_id) << "the job's result is the drill report";
  EXPECT_EQ(o.result["drill"], "docs-drill");

  // The record is in the repository: history that survives the loss of the server.
  auto repo = open_test_repo(repo_path);
  auto records = drill::list_drill_records(*repo);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].id, d.drill_id);
  // Nothing is left in the scratch parent.
  EXPECT_TRUE(fs::is_empty(tmp.path + "/scratch"));
}

TEST_F(ServerDrillJob, FailingValidatorFailsTheJobNamingTheComponentWithExit12) {
  ASSERT_EQ(run(backup_plan()).state, JobState::Success);
  JobOutcome o = run(drill_plan("      files: [a.txt, missing.txt]\n"));
  ASSERT_EQ(o.state, JobState::Failed);
  EXPECT_EQ(o.exit_code, 12);
  EXPECT_NE(o.reason.find("drill docs-drill failed: docs: "), std::string::npos) << o.reason;
  EXPECT_NE(o.reason.find("missing.txt"), std::string::npos) << o.reason;
  ASSERT_EQ(o.drill_results.size(), 1u);
  EXPECT_FALSE(o.drill_results[0].validated);
  EXPECT_FALSE(o.drill_results[0].passed);
  // A failed drill is recorded too: the history shows failures.
  auto repo = open_test_repo(repo_path);
  EXPECT_EQ(drill::list_drill_records(*repo).size(), 1u);
}

TEST_F(ServerDrillJob, NoRecoveryPointFailsTheDrill) {
  JobOutcome o = run(drill_plan("      files: [a.txt]\n"));
  ASSERT_EQ(o.state, JobState::Failed);
  EXPECT_EQ(o.exit_code, 12);
  ASSERT_EQ(o.drill_results.size(), 1u);
  EXPECT_FALSE(o.drill_results[0].detail.empty());
}

TEST_F(ServerDrillJob, RebuildReadsTheDrillRecordsBack) {
  ASSERT_EQ(run(backup_plan()).state, JobState::Success);
  JobOutcome o = run(drill_plan("      files: [a.txt]\n"));
  ASSERT_EQ(o.state, JobState::Success) << o.reason;
  auto catalog = open_sqlite_catalog(tmp.path + "/catalog.db");  // a new, empty catalog
  auto rebuilt = rebuild_points(config, *catalog);
  ASSERT_EQ(rebuilt.size(), 1u);
  EXPECT_TRUE(rebuilt[0].ok) << rebuilt[0].error;
  EXPECT_EQ(rebuilt[0].points, 1u);
  EXPECT_EQ(rebuilt[0].drills, 1u);
  auto results = catalog->last_passed_drill_results();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].drill_id, o.drill_results[0].drill_id);
  EXPECT_EQ(results[0].source, "docs") << "mapped to the configured source from the record's paths";
  EXPECT_EQ(results[0].job_id, 0) << "read from the repository, not run by this catalog's server";
  EXPECT_EQ(results[0].rto_s, o.drill_results[0].rto_s);
}

TEST_F(ServerDrillJob, MissedObjectiveFailsTheJobWithExit17SayingWhichAndByHowMuch) {
  ASSERT_EQ(run(backup_plan()).state, JobState::Success);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the point is now over 1 s old
  JobOutcome o = run(drill_plan("      files: [a.txt]\n", "    objectives: {rpo: 1s}\n"));
  ASSERT_EQ(o.state, JobState::Failed);
  EXPECT_EQ(o.exit_code, 17);
  EXPECT_NE(o.reason.find("drill docs-drill missed objectives: docs RPO "), std::string::npos) << o.reason;
  EXPECT_NE(o.reason.find(" > 1.0 s"), std::string::npos) << o.reason;
  ASSERT_EQ(o.drill_results.size(), 1u);
  EXPECT_TRUE(o.drill_results[0].validated);
  EXPECT_FALSE(o.drill_results[0].passed);
  EXPECT_EQ(o.drill_results[0].rpo_ok, false);
  EXPECT_EQ(o.drill_results[0].rpo_objective_s, 1);
}
