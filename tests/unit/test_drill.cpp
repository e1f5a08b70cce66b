// Tests of drills (src/drill): the drill file read into its structs and each error with its line
// and field; the report's JSON round trip, exit codes, Markdown and HTML (escaped, self-contained);
// scratch directories and the removal of a killed drill's leftovers (and of nothing else).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "drill/drill_components.h"
#include "drill/drill_report.h"
#include "drill/drill_spec.h"
#include "ops/error_table.h"
#include "test_util.h"
#include "util/clock.h"

namespace arca::drill {
namespace {

namespace fs = std::filesystem;

// Line 1 is empty (the raw string starts with a newline): "drill: nightly" is line 2.
const char* kFull = R"(
drill: nightly
incident-time: 2026-12-07T14:05:00Z
scratch: /var/tmp/drills
components:
  orders-db:
    kind: postgres
    source: orders
    recover-to: incident
    objectives: {rto: 15m, rpo: 5m}
    validate:
      sql:
        - {name: customers, database: shop, query: "SELECT count(*) FROM customers", expect: "= 200"}
        - {query: "SELECT 1", expect: "1"}
      commands:
        - {name: ready, run: [pg_isready, -q], expect-exit: 3, expect-output: "accepting"}
  pg-time:
    kind: postgres
    source: orders
    recover-to: {time: "2026-12-07T15:00:00+01:00"}
  pg-lsn: {kind: postgres, source: orders, recover-to: {lsn: 0/3000060}}
  pg-name: {kind: postgres, source: orders, recover-to: {name: before-migration}}
  pg-backup: {kind: postgres, source: orders, recover-to: backup, snapshot: 1a2b3c4d}
  pg-latest: {kind: postgres, source: orders, recover-to: latest}
  cache:
    kind: redis
    source: cache
    objectives: {rto: 5m, rpo: 1h}
    depends-on: [orders-db]
    validate: {samples: 50, min-keys: 1000}
  events:
    kind: kafka
    source: events
    depends-on: [orders-db, cache]
    validate: {min-records: 5000}
  config:
    kind: files
    paths: [/etc/app, /srv/conf]
    host: web1
    directory: /srv/restore/config
    validate:
      files: [app.conf, /srv/conf/x.yaml]
      commands:
        - run: [grep, -q, listen, "{path}/app.conf"]
)";

DrillSpec parsed(const std::string& text) {
  DrillLoad l = parse_drill(text, "d.yaml");
  for (const auto& e : l.errors) ADD_FAILURE() << e.to_string("d.yaml");
  EXPECT_TRUE(l.spec.has_value());
  return l.spec.value_or(DrillSpec{});
}

// The only error of a drill file (a test failure if there is not exactly one).
ConfigError one_error(const std::string& text) {
  DrillLoad l = parse_drill(text, "d.yaml");
  EXPECT_FALSE(l.spec.has_value());
  std::string all;
  for (const auto& e : l.errors) all += "\n  " + e.to_string("d.yaml");
  EXPECT_EQ(l.errors.size(), 1u) << all;
  return l.errors.empty() ? ConfigError{} : l.errors.front();
}

// A drill named "t" whose components map is `components` (line 3 is its first component).
std::string drill_with(const std::string& components) { return "drill: t\ncomponents:\n" + components; }

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(DrillSpec, AFullFileIsReadIntoItsValues) {
  DrillSpec d = parsed(kFull);
  EXPECT_EQ(d.name, "nightly");
  ASSERT_TRUE(d.incident_time);
  EXPECT_DOUBLE_EQ(*d.incident_time, 1796652300.0);  // 2026-12-07T14:05:00Z
  EXPECT_EQ(d.scratch_dir, "/var/tmp/drills");
  ASSERT_EQ(d.components.size(), 9u);

  const ComponentSpec& db = d.components[0];
  EXPECT_EQ(db.name, "orders-db");
  EXPECT_EQ(db.line, 6);
  EXPECT_EQ(db.kind, ComponentKind::Postgres);
  EXPECT_EQ(db.source, "orders");
  EXPECT_EQ(db.snapshot, "latest");
  EXPECT_EQ(db.recover_to.kind, PgRecoverTo::Kind::Incident);
  EXPECT_EQ(db.objectives.rto_s, 900);
  EXPECT_EQ(db.objectives.rpo_s, 300);
  ASSERT_EQ(db.sql.size(), 2u);
  EXPECT_EQ(db.sql[0].name, "customers");
  EXPECT_EQ(db.sql[0].database, "shop");
  EXPECT_EQ(db.sql[0].query, "SELECT count(*) FROM customers");
  EXPECT_EQ(db.sql[0].expect, "= 200");
  EXPECT_EQ(db.sql[1].name, "SELECT 1");  // unnamed: the query names it
  EXPECT_EQ(db.sql[1].database, "postgres");
  ASSERT_EQ(db.commands.size(), 1u);
  EXPECT_EQ(db.commands[0].name, "ready");
  EXPECT_EQ(db.commands[0].argv, (std::vector<std::string>{"pg_isready", "-q"}));
  EXPECT_EQ(db.commands[0].expect_exit, 3);
  EXPECT_EQ(db.commands[0].expect_output, "accepting");
  EXPECT_TRUE(db.depends_on.empty());

  EXPECT_EQ(d.component("pg-time")->recover_to.kind, PgRecoverTo::Kind::Time);
  EXPECT_EQ(d.component("pg-time")->recover_to.value, "2026-12-07T15:00:00+01:00");
  EXPECT_EQ(d.component("pg-time")->line, 17);
  EXPECT_EQ(d.component("pg-lsn")->recover_to.kind, PgRecoverTo::Kind::Lsn);
  EXPECT_EQ(d.component("pg-lsn")->recover_to.value, "0/3000060");
  EXPECT_EQ(d.component("pg-name")->recover_to.kind, PgRecoverTo::Kind::Name);
  EXPECT_EQ(d.component("pg-name")->recover_to.value, "before-migration");
  EXPECT_EQ(d.component("pg-backup")->recover_to.kind, PgRecoverTo::Kind::Backup);
  EXPECT_EQ(d.component("pg-backup")->snapshot, "1a2b3c4d");
  EXPECT_EQ(d.component("pg-latest")->recover_to.kind, PgRecoverTo::Kind::Latest);

  const ComponentSpec* cache = d.component("cache");
  ASSERT_TRUE(cache);
  EXPECT_EQ(cache->kind, ComponentKind::Redis);
  EXPECT_EQ(cache->source, "cache");
  EXPECT_EQ(cache->objectives.rto_s, 300);
  EXPECT_EQ(cache->objectives.rpo_s, 3600);
  EXPECT_EQ(cache->depends_on, std::vector<std::string>{"orders-db"});
  EXPECT_EQ(cache->redis_samples, 50u);
  EXPECT_EQ(cache->min_keys, 1000u);
  EXPECT_FALSE(cache->min_records);

  const ComponentSpec* events = d.component("events");
  ASSERT_TRUE(events);
  EXPECT_EQ(events->kind, ComponentKind::Kafka);
  EXPECT_EQ(events->depends_on, (std::vector<std::string>{"orders-db", "cache"}));
  EXPECT_EQ(events->min_records, 5000u);
  EXPECT_FALSE(events->objectives.rto_s);
  EXPECT_FALSE(events->objectives.rpo_s);
  EXPECT_EQ(events->redis_samples, 200u);  // the default

  const ComponentSpec* config = d.component("config");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->kind, ComponentKind::Files);
  EXPECT_EQ(config->paths, (std::vector<std::string>{"/etc/app", "/srv/conf"}));
  EXPECT_EQ(config->host, "web1");
  EXPECT_TRUE(config->source.empty());
  EXPECT_EQ(config->directory, "/srv/restore/config");
  EXPECT_EQ(config->expect_files, (std::vector<std::string>{"app.conf", "/srv/conf/x.yaml"}));
  ASSERT_EQ(config->commands.size(), 1u);
  EXPECT_EQ(config->commands[0].name, "grep");  // unnamed: the program names it
  EXPECT_EQ(config->commands[0].argv, (std::vector<std::string>{"grep", "-q", "listen", "{path}/app.conf"}));
  EXPECT_EQ(config->commands[0].expect_exit, 0);
  EXPECT_FALSE(config->commands[0].expect_output);
  EXPECT_EQ(d.component("nope"), nullptr);
}

TEST(DrillSpec, IncidentTimeNowOrAbsentIsTheDrillsStart) {
  EXPECT_FALSE(parsed("drill: t\nincident-time: now\ncomponents: {f: {kind: files, paths: [/x]}}\n").incident_time);
  EXPECT_FALSE(parsed("drill: t\ncomponents: {f: {kind: files, paths: [/x]}}\n").incident_time);
}

TEST(DrillSpec, AnUnknownFieldSuggestsTheNearestKnownOne) {
  ConfigError e = one_error(drill_with("  a:\n    kind: files\n    paths: [/x]\n    depend-on: [b]\n"));
  EXPECT_EQ(e.line, 6);
  EXPECT_EQ(e.field, "components.a.depend-on");
  EXPECT_TRUE(has(e.message, "did you mean 'depends-on'")) << e.message;

  e = one_error("drill: t\nincident_time: now\ncomponents: {f: {kind: files, paths: [/x]}}\n");
  EXPECT_EQ(e.line, 2);
  EXPECT_TRUE(has(e.message, "did you mean 'incident-time'")) << e.message;

  e = one_error(drill_with("  c:\n    kind: redis\n    source: c\n    validate: {min_keys: 5}\n"));
  EXPECT_EQ(e.line, 6);
  EXPECT_EQ(e.field, "components.c.validate.min_keys");
  EXPECT_TRUE(has(e.message, "did you mean 'min-keys'")) << e.message;
}

TEST(DrillSpec, AWrongKindIsTheComponentsOnlyError) {
  // Not also "paths required" or "source is for other kinds": the kind is unknown, so is what it needs.
  ConfigError e = one_error(drill_with("  db:\n    kind: postgress\n    source: x\n"));
  EXPECT_EQ(e.line, 4);
  EXPECT_EQ(e.field, "components.db.kind");
  EXPECT_TRUE(has(e.message, "'postgress' is not one of postgres, redis, kafka or files")) << e.message;
  e = one_error(drill_with("  db:\n    source: x\n"));
  EXPECT_EQ(e.line, 4);
  EXPECT_EQ(e.field, "components.db.kind");
}

TEST(DrillSpec, FieldsOfAnotherKindAreRefusedWithTheirLine) {
  ConfigError e = one_error(drill_with("  c:\n    kind: redis\n    source: c\n    recover-to: latest\n"));
  EXPECT_EQ(e.line, 6);
  EXPECT_EQ(e.field, "components.c.recover-to");
  EXPECT_TRUE(has(e.message, "postgres components only")) << e.message;

  e = one_error(drill_with("  c:\n    kind: redis\n    source: c\n    paths: [/x]\n"));
  EXPECT_EQ(e.line, 6);
  EXPECT_EQ(e.field, "components.c.paths");
  EXPECT_TRUE(has(e.message, "files components only")) << e.message;

  e = one_error(drill_with("  f:\n    kind: files\n    paths: [/x]\n    source: etc\n"));
  EXPECT_EQ(e.line, 6);
  EXPECT_EQ(e.field, "components.f.source");
  EXPECT_TRUE(has(e.message, "by paths")) << e.message;

  e = one_error(drill_with("  c:\n    kind: redis\n    source: c\n    validate:\n      sql: [{query: SELECT 1, expect: 1}]\n"));
  EXPECT_EQ(e.line, 7);
  EXPECT_EQ(e.field, "components.c.validate.sql");
  EXPECT_TRUE(has(e.message, "postgres components only")) << e.message;

  e = one_error(drill_with("  k:\n    kind: kafka\n    source: k\n    validate: {min-keys: 3}\n"));
  EXPECT_EQ(e.field, "components.k.validate.min-keys");
  EXPECT_TRUE(has(e.message, "redis components only")) << e.message;
}

TEST(DrillSpec, BadTimesAndDurationsAreNamed) {
  ConfigError e = one_error("drill: t\nincident-time: yesterday\ncomponents: {f: {kind: files, paths: [/x]}}\n");
  EXPECT_EQ(e.line, 2);
  EXPECT_EQ(e.field, "incident-time");
  EXPECT_TRUE(has(e.message, "'yesterday' is not a time")) << e.message;

  // A time without a zone is ambiguous.
  e = one_error("drill: t\nincident-time: 2026-12-07T14:05:00\ncomponents: {f: {kind: files, paths: [/x]}}\n");
  EXPECT_EQ(e.line, 2);
  // Nor a day that does not exist (it would silently become 2027-01-01).
  e = one_error("drill: t\nincident-time: 2026-12-32T10:00:00Z\ncomponents: {f: {kind: files, paths: [/x]}}\n");
  EXPECT_EQ(e.line, 2);
  EXPECT_EQ(e.field, "incident-time");
  EXPECT_TRUE(parsed("drill: t\nincident-time: 2024-02-29T23:59:59.5+02:00\ncomponents: {f: {kind: files, paths: [/x]}}\n")
                  .incident_time);

  e = one_error(drill_with("  f:\n    kind: files\n    paths: [/x]\n    objectives: {rto: 5m, rpo: soon}\n"));
  EXPECT_EQ(e.line, 6);
  EXPECT_EQ(e.field, "components.f.objectives.rpo");
  EXPECT_TRUE(has(e.message, "'soon' is not a duration")) << e.message;

  e = one_error(drill_with("  db:\n    kind: postgres\n    source: x\n    recover-to: {time: 2026-13-45T99:00:00Z}\n"));
  EXPECT_EQ(e.line, 6);
  EXPECT_EQ(e.field, "components.db.recover-to.time");
}

TEST(DrillSpec, AnIncidentOrTargetTimeInTheFutureIsRefused) {
  // A wrong year: recovery would wait for WAL that cannot exist, and RPOs would be a century.
  const std::string later = rfc3339_utc(double(clock_now() + 3600));
  ConfigError e = one_error("drill: t\nincident-time: " + later + "\ncomponents: {f: {kind: files, paths: [/x]}}\n");
  EXPECT_EQ(e.line, 2);
  EXPECT_EQ(e.field, "incident-time");
  EXPECT_TRUE(has(e.message, "in the future")) << e.message;
  e = one_error(drill_with("  db:\n    kind: postgres\n    source: x\n    recover-to: {time: \"" + later + "\"}\n"));
  EXPECT_EQ(e.line, 6);
  EXPECT_EQ(e.field, "components.db.recover-to.time");
  EXPECT_TRUE(has(e.message, "in the future")) << e.message;
  // A moment ago is an incident.
  const std::string before = rfc3339_utc(double(clock_now() - 5));
  EXPECT_TRUE(parsed("drill: t\nincident-time: " + before + "\ncomponents: {f: {kind: files, paths: [/x]}}\n").incident_time);
}

TEST(DrillSpec, EmptyPathsBadLsnsEmptyNamesAndSharedDirectoriesAreRefused) {
  ConfigError e = one_error(drill_with("  f:\n    kind: files\n    paths: []\n"));
  EXPECT_EQ(e.line, 5);
  EXPECT_EQ(e.field, "components.f.paths");
  EXPECT_TRUE(has(e.message, "names no path")) << e.message;

  for (const char* lsn : {"zz/yy", "0/", "/3000060", "123456789/0", "0/30 00"}) {
    e = one_error(drill_with("  db: {kind: postgres, source: x, recover-to: {lsn: \"" + std::string(lsn) + "\"}}\n"));
    EXPECT_EQ(e.field, "components.db.recover-to.lsn") << lsn;
  }
  EXPECT_EQ(parsed(drill_with("  db: {kind: postgres, source: x, recover-to: {lsn: 1A/FF000060}}\n"))
                .components[0].recover_to.value, "1A/FF000060");

  e = one_error(drill_with("  db: {kind: postgres, source: x, recover-to: {name: \"\"}}\n"));
  EXPECT_EQ(e.field, "components.db.recover-to.name");

  e = one_error(drill_with("  a: {kind: files, paths: [/x], directory: /srv/r}\n"
                           "  b: {kind: files, paths: [/y], directory: /srv/./r}\n"));
  EXPECT_EQ(e.line, 4);
  EXPECT_EQ(e.field, "components.b.directory");
  EXPECT_TRUE(has(e.message, "another component")) << e.message;

  // A refused component name is the only error (not also "names no component").
  e = one_error(drill_with("  \"a b\": {kind: files, paths: [/x]}\n"));
  EXPECT_EQ(e.line, 3);
}

TEST(DrillSpec, DependenciesNameComponentsAndMakeNoCycle) {
  ConfigError e = one_error(drill_with("  a: {kind: files, paths: [/x]}\n  b:\n    kind: files\n    paths: [/y]\n"
                                       "    depends-on: [a, nope]\n"));
  EXPECT_EQ(e.line, 7);
  EXPECT_EQ(e.field, "components.b.depends-on");
  EXPECT_TRUE(has(e.message, "no component named 'nope'")) << e.message;

  e = one_error(drill_with("  a:\n    kind: files\n    paths: [/x]\n    depends-on: [c]\n"
                           "  b: {kind: files, paths: [/y], depends-on: [a]}\n"
                           "  c: {kind: files, paths: [/z], depends-on: [b]}\n"));
  EXPECT_EQ(e.line, 6);
  EXPECT_EQ(e.field, "components.a.depends-on");
  EXPECT_TRUE(has(e.message, "dependency cycle")) << e.message;

  DrillLoad self = parse_drill(drill_with("  a: {kind: files, paths: [/x], depends-on: [a]}\n"), "d.yaml");
  ASSERT_FALSE(self.errors.empty());
  EXPECT_EQ(self.errors[0].line, 3);
  EXPECT_TRUE(has(self.errors[0].message, "cannot depend on itself")) << self.errors[0].message;
}

TEST(DrillSpec, StructuralErrors) {
  ConfigError e = one_error("drill: t\ncomponents: {}\n");
  EXPECT_EQ(e.line, 2);
  EXPECT_EQ(e.field, "components");
  EXPECT_TRUE(has(e.message, "names no component")) << e.message;

  e = one_error(drill_with("  f:\n    kind: files\n    paths: [/x]\n    validate:\n      commands:\n"
                           "        - {name: check, expect-exit: 1}\n"));
  EXPECT_EQ(e.line, 8);
  EXPECT_EQ(e.field, "components.f.validate.commands[0].run");

  e = one_error(drill_with("  f:\n    kind: files\n    paths: [/x]\n    validate:\n      commands: [{run: []}]\n"));
  EXPECT_EQ(e.line, 7);
  EXPECT_TRUE(has(e.message, "names no program")) << e.message;

  e = one_error("drill: t\ncomponents:\n  a: {kind: files, paths: [/x]\n  b: 1\n");
  EXPECT_GT(e.line, 0);
  EXPECT_TRUE(has(e.message, "not valid YAML")) << e.message;

  // The name goes into scratch directory names: a path is not a name.
  e = one_error("drill: ../../etc/x\ncomponents: {f: {kind: files, paths: [/x]}}\n");
  EXPECT_EQ(e.line, 1);
  EXPECT_EQ(e.field, "drill");

  e = one_error("drill: t\nscratch: rel/dir\ncomponents: {f: {kind: files, paths: [/x]}}\n");
  EXPECT_EQ(e.line, 2);
  EXPECT_EQ(e.field, "scratch");
  EXPECT_TRUE(has(e.message, "absolute")) << e.message;
}

TEST(DrillSpec, EveryErrorAtOnceSortedByLine) {
  DrillLoad l = parse_drill(drill_with("  a:\n    kind: files\n    paths: [/x]\n    objectives: {rto: soon}\n"
                                       "  b:\n    kind: redis\n    source: b\n    validate: {files: [x]}\n"
                                       "  c: {kind: kafka, source: c, depends-on: [zz]}\n"),
                            "d.yaml");
  ASSERT_EQ(l.errors.size(), 3u);
  EXPECT_EQ(l.errors[0].line, 6);
  EXPECT_EQ(l.errors[1].line, 10);
  EXPECT_EQ(l.errors[2].line, 11);
  EXPECT_EQ(l.errors[0].to_string("d.yaml").rfind("d.yaml:6:", 0), 0u) << l.errors[0].to_string("d.yaml");
}

// A result with every field set (and one of each check status).
DrillResult sample_result() {
  DrillResult r;
  r.id = std::string(64, 'a');
  r.name = "nightly";
  r.host = "db1";
  r.started_at = 1796652300.25;
  r.finished_at = 1796652342.5;
  r.incident_time = 1796652000.125;
  r.incident_given = true;
  ComponentResult db;
  db.name = "orders-db";
  db.kind = ComponentKind::Postgres;
  db.source = "orders";
  db.snapshot_id = std::string(64, 'b');
  db.snapshot_time = "2026-12-07T13:00:00.5Z";
  db.phases = {{"locate", 0.1, 0.4}, {"restore", 0.4, 3.25}, {"start and WAL replay", 3.25, 9.5}, {"validate", 9.5, 11}};
  db.checks = {{"foreign keys", true, false, "12 constraints"},
               {"amcheck", false, true, "extension missing"},
               {"marks", false, false, "got 99"}};
  db.rto_s = 11;
  db.newest_data = 1796651990.75;
  db.rpo_s = 9.375;
  db.objectives.rto_s = 900;
  db.objectives.rpo_s = 300;
  db.rto_ok = true;
  db.rpo_ok = true;
  ComponentResult cache;
  cache.name = "cache";
  cache.kind = ComponentKind::Redis;
  cache.source = "cache";
  cache.error = "not run: it depends on orders-db, which did not restore and validate";
  r.components = {db, cache};
  return r;
}

TEST(DrillReport, JsonRoundTripKeepsEveryField) {
  DrillResult r = sample_result();
  const std::string text = to_json(r).dump();
  DrillResult b = drill_result_from_json(nlohmann::json::parse(text));
  EXPECT_EQ(b.id, r.id);
  EXPECT_EQ(b.name, r.name);
  EXPECT_EQ(b.host, r.host);
  EXPECT_DOUBLE_EQ(b.started_at, r.started_at);
  EXPECT_DOUBLE_EQ(b.finished_at, r.finished_at);
  EXPECT_DOUBLE_EQ(b.incident_time, r.incident_time);
  EXPECT_EQ(b.incident_given, true);
  ASSERT_EQ(b.components.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const ComponentResult &x = r.components[i], &y = b.components[i];
    SCOPED_TRACE(x.name);
    EXPECT_EQ(y.name, x.name);
    EXPECT_EQ(y.kind, x.kind);
    EXPECT_EQ(y.source, x.source);
    EXPECT_EQ(y.snapshot_id, x.snapshot_id);
    EXPECT_EQ(y.snapshot_time, x.snapshot_time);
    EXPECT_EQ(y.error, x.error);
    EXPECT_DOUBLE_EQ(y.rto_s, x.rto_s);
    EXPECT_EQ(y.rpo_s, x.rpo_s);
    EXPECT_EQ(y.newest_data, x.newest_data);
    EXPECT_EQ(y.objectives.rto_s, x.objectives.rto_s);
    EXPECT_EQ(y.objectives.rpo_s, x.objectives.rpo_s);
    EXPECT_EQ(y.rto_ok, x.rto_ok);
    EXPECT_EQ(y.rpo_ok, x.rpo_ok);
    ASSERT_EQ(y.phases.size(), x.phases.size());
    for (size_t p = 0; p < x.phases.size(); ++p) {
      EXPECT_EQ(y.phases[p].name, x.phases[p].name);
      EXPECT_DOUBLE_EQ(y.phases[p].start_s, x.phases[p].start_s);
      EXPECT_DOUBLE_EQ(y.phases[p].end_s, x.phases[p].end_s);
    }
    ASSERT_EQ(y.checks.size(), x.checks.size());
    for (size_t k = 0; k < x.checks.size(); ++k) {
      EXPECT_EQ(y.checks[k].name, x.checks[k].name);
      EXPECT_EQ(y.checks[k].skipped, x.checks[k].skipped);
      if (!x.checks[k].skipped) {  // a skipped check is neither passed nor failed
        EXPECT_EQ(y.checks[k].passed, x.checks[k].passed);
      }
      EXPECT_EQ(y.checks[k].detail, x.checks[k].detail);
    }
    EXPECT_EQ(y.validated(), x.validated());
    EXPECT_EQ(y.passed(), x.passed());
  }
  // The documented fields a reader of the JSON relies on.
  nlohmann::json j = nlohmann::json::parse(text);
  EXPECT_EQ(j["exit_code"].get<int>(), int(kExitCorrupt));
  EXPECT_EQ(j["components"][0]["status"], "FAILED");
  EXPECT_EQ(j["components"][0]["checks"][1]["status"], "skipped");
  EXPECT_TRUE(j["components"][1]["snapshot"].is_null());
  EXPECT_TRUE(j["components"][0]["error"].is_null());
  EXPECT_EQ(drill_result_from_json(to_json(b)).components[0].checks.size(), 3u);
}

TEST(DrillReport, ABadDocumentIsCorrupt) {
  nlohmann::json j = to_json(sample_result());
  j["components"][0]["kind"] = "mysql";
  EXPECT_EQ(testing::kind_of([&] { drill_result_from_json(j); }), ErrorKind::Corrupt);
  j = to_json(sample_result());
  j.erase("started_unix");
  EXPECT_EQ(testing::kind_of([&] { drill_result_from_json(j); }), ErrorKind::Corrupt);
  EXPECT_EQ(testing::kind_of([&] { drill_result_from_json(nlohmann::json::array()); }), ErrorKind::Corrupt);
}

// One validated component of `kind` with the given objective verdicts.
ComponentResult validated_component(const std::string& name, std::optional<bool> rto_ok, std::optional<bool> rpo_ok) {
  ComponentResult c;
  c.name = name;
  c.snapshot_id = std::string(64, 'c');
  c.checks = {{"manifest", true, false, ""}, {"amcheck", false, true, "not installed"}};
  c.rto_ok = rto_ok;
  c.rpo_ok = rpo_ok;
  return c;
}

TEST(DrillReport, ExitCodes) {
  DrillResult r;
  r.components = {validated_component("a", true, std::nullopt), validated_component("b", std::nullopt, true)};
  EXPECT_TRUE(r.passed());
  EXPECT_EQ(r.exit_code(), kExitOk);  // a skipped check fails nothing

  r.components[1].rpo_ok = false;  // only an objective missed
  EXPECT_FALSE(r.passed());
  EXPECT_TRUE(r.components[1].validated());
  EXPECT_EQ(r.exit_code(), kExitObjective);
  EXPECT_EQ(kExitObjective, 17);

  DrillResult failed_check = r;
  failed_check.components[0].checks.push_back({"foreign keys", false, false, "orders_customer_fkey"});
  EXPECT_EQ(failed_check.exit_code(), kExitCorrupt);  // a failed check outweighs a missed objective
  EXPECT_EQ(kExitCorrupt, 12);

  DrillResult error = r;
  error.components[1] = validated_component("b", true, true);
  error.components[0].error = "no recovery point";
  EXPECT_EQ(error.exit_code(), kExitCorrupt);

  DrillResult none_found = r;
  none_found.components[1] = validated_component("b", true, true);
  none_found.components[0].snapshot_id.clear();  // nothing restored, yet no error text
  EXPECT_EQ(none_found.exit_code(), kExitCorrupt);
}

// A result whose names, details and errors carry markup.
DrillResult hostile_result() {
  DrillResult r = sample_result();
  r.name = "<script>alert(1)</script>";
  r.components[0].name = "db<script>x</script>";
  r.components[0].checks[2] = {"<script>evil()</script>", false, false, "got <script>1</script> | & \"q\"\nline 2"};
  r.components[1].error = "<img onerror=x> <script>e</script>";
  return r;
}

TEST(DrillReport, MarkdownEscapesMarkupAndKeepsTablesWhole) {
  const std::string md = to_markdown(hostile_result());
  EXPECT_FALSE(has(md, "<script")) << md;
  EXPECT_FALSE(has(md, "<img")) << md;
  EXPECT_TRUE(has(md, "&lt;script&gt;evil()&lt;/script&gt;")) << md;
  EXPECT_TRUE(has(md, "\\| & ")) << md;  // a pipe would end the table's cell
  EXPECT_FALSE(has(md, "\nline 2")) << md;
  EXPECT_TRUE(has(md, "# Drill &lt;script&gt;alert(1)&lt;/script&gt;: FAILED")) << md;

  const std::string plain = to_markdown(sample_result());
  EXPECT_TRUE(has(plain, "| orders-db | postgres | `bbbbbbbb` 2026-12-07T13:00:00.5Z |")) << plain;
  EXPECT_TRUE(has(plain, "- [FAIL] marks: got 99")) << plain;
  EXPECT_TRUE(has(plain, "- [skip] amcheck")) << plain;
  EXPECT_TRUE(has(plain, "15 min 0 s: met")) << plain;
  EXPECT_TRUE(has(plain, "**Error:** not run: it depends on orders-db")) << plain;
}

TEST(DrillReport, HtmlIsEscapedAndSelfContained) {
  const std::string html = to_html(hostile_result());
  EXPECT_FALSE(has(html, "<script")) << html;
  EXPECT_FALSE(has(html, "<img")) << html;
  EXPECT_TRUE(has(html, "&lt;script&gt;evil()&lt;/script&gt;")) << html;
  EXPECT_TRUE(has(html, "&lt;img onerror=x&gt;")) << html;
  EXPECT_TRUE(has(html, "&amp; &quot;q&quot;")) << html;

  const std::string plain = to_html(sample_result());
  EXPECT_FALSE(has(plain, "http://")) << plain;
  EXPECT_FALSE(has(plain, "https://")) << plain;
  EXPECT_FALSE(has(plain, " src=")) << plain;
  EXPECT_FALSE(has(plain, "<link")) << plain;
  EXPECT_EQ(plain.rfind("<!doctype html>", 0), 0u);
  // The timeline: one bar per phase, placed by its share of the drill's span (11 s here).
  EXPECT_TRUE(has(plain, "class=\"ph restore\" style=\"left:3.64%;width:25.91%\"")) << plain;
  EXPECT_TRUE(has(plain, "class=\"ph start\"")) << plain;  // "start and WAL replay" is a start
  EXPECT_TRUE(has(plain, "<td class=\"bad\">FAILED</td>")) << plain;
}

// A directory under `parent` that looks like a drill's scratch, with `marker` as its marker ("" none).
std::string fake_scratch(const std::string& parent, const std::string& name, const std::string& marker) {
  std::string dir = parent + "/" + name;
  fs::create_directories(dir + "/data");
  std::ofstream(dir + "/data/file") << "x";
  if (!marker.empty()) std::ofstream(dir + "/.arca-drill") << marker;
  return dir;
}

std::string marker_of(const std::string& dir) {
  std::ifstream f(dir + "/.arca-drill");
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

TEST(DrillScratch, MakeScratchMarksTheDirectoryWithThisProcess) {
  TempDir t;
  const std::string dir = make_scratch(t.path, "nightly", "orders-db");
  EXPECT_EQ(fs::path(dir).parent_path(), fs::path(t.path));
  EXPECT_EQ(fs::path(dir).filename().string().rfind("arca-drill-nightly-orders-db-", 0), 0u) << dir;
  struct stat st {};
  ASSERT_EQ(stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0711u);
  std::istringstream m(marker_of(dir));
  pid_t pid = 0;
  std::string started;
  ASSERT_TRUE(m >> pid >> started);
  EXPECT_EQ(pid, getpid());
  EXPECT_FALSE(started.empty());
  EXPECT_NE(make_scratch(t.path, "nightly", "orders-db"), dir);  // each call its own
  EXPECT_EQ(testing::kind_of([&] { make_scratch(t.path + "/missing", "n", "c"); }), ErrorKind::NotFound);
}

TEST(DrillScratch, OnlyADeadDrillsMarkedDirectoriesAreRemoved) {
  TempDir t, outside;
  const std::string live = make_scratch(t.path, "n", "live");
  const int dead = testing::dead_pid();
  const std::string stale = fake_scratch(t.path, "arca-drill-n-dead-AAAAAA", std::to_string(dead) + " 12345\n");
  // This process's pid with another start time: the pid was reused, the drill is gone.
  const std::string reused =
      fake_scratch(t.path, "arca-drill-n-reused-BBBBBB", std::to_string(getpid()) + " 1\n");
  const std::string unmarked = fake_scratch(t.path, "arca-drill-n-nomarker-CCCCCC", "");
  const std::string half = fake_scratch(t.path, "arca-drill-n-half-DDDDDD", std::to_string(dead) + "\n");
  const std::string foreign = fake_scratch(t.path, "other-n-EEEEEE", std::to_string(dead) + " 12345\n");
  // A symlink to a dead drill's directory elsewhere: neither it nor its target is touched.
  const std::string target = fake_scratch(outside.path, "arca-drill-n-target-FFFFFF", std::to_string(dead) + " 1\n");
  const std::string link = t.path + "/arca-drill-n-link-GGGGGG";
  fs::create_directory_symlink(target, link);

  std::vector<std::string> removed = remove_stale_scratch(t.path);
  std::sort(removed.begin(), removed.end());
  EXPECT_EQ(removed, (std::vector<std::string>{stale, reused}));
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_FALSE(fs::exists(reused));
  for (const auto& kept : {live, unmarked, half, foreign, target + "/data/file"})
    EXPECT_TRUE(fs::exists(kept)) << kept;
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_TRUE(remove_stale_scratch(t.path).empty());
  EXPECT_TRUE(remove_stale_scratch(t.path + "/missing").empty());
}

// A process whose program is `exe` (a copy of sleep under that name), working in `dir`.
pid_t sleeper_in(const std::string& dir, const std::string& exe) {
  pid_t child = fork();
  if (child == 0) {
    if (chdir(dir.c_str()) != 0) _exit(3);
    execl(exe.c_str(), exe.c_str(), "30", nullptr);
    _exit(4);
  }
  // Wait until the child runs the program in the directory (before the sweep looks at it).
  for (int i = 0; i < 500 && child > 0; ++i) {
    std::error_code ec, ec2;
    const std::string proc = "/proc/" + std::to_string(child);
    if (fs::read_symlink(proc + "/cwd", ec) == fs::path(dir) && fs::read_symlink(proc + "/exe", ec2) == fs::path(exe))
      break;
    usleep(2000);
  }
  return child;
}

TEST(DrillScratch, AServerLeftRunningInAStaleDirectoryIsStopped) {
  TempDir t, bin;
  const std::string stale =
      fake_scratch(t.path, "arca-drill-n-srv-AAAAAA", std::to_string(testing::dead_pid()) + " 12345\n");
  const std::string sleep_bin = fs::exists("/usr/bin/sleep") ? "/usr/bin/sleep" : "/bin/sleep";
  fs::copy_file(sleep_bin, bin.path + "/redis-server");
  fs::copy_file(sleep_bin, bin.path + "/bash");
  pid_t server = sleeper_in(stale + "/data", bin.path + "/redis-server");
  ASSERT_GT(server, 0);
  // An operator's shell looking at the leftovers is not the drill's: it keeps running.
  pid_t shell = sleeper_in(stale, bin.path + "/bash");
  ASSERT_GT(shell, 0);
  EXPECT_EQ(remove_stale_scratch(t.path), std::vector<std::string>{stale});
  // Checked once the server's kill arrived (below): a kill of the shell would have arrived too.
  struct ShellCheck {
    pid_t pid;
    ~ShellCheck() {
      int st = 0;
      EXPECT_EQ(waitpid(pid, &st, WNOHANG), 0) << "the shell in the stale directory was killed";
      kill(pid, SIGKILL);
      waitpid(pid, &st, 0);
    }
  } shell_check{shell};
  int status = 0;
  pid_t got = 0;
  for (int i = 0; i < 500 && got == 0; ++i) {
    got = waitpid(server, &status, WNOHANG);
    if (got == 0) usleep(2000);
  }
  if (got == 0) {  // still running: the sweep left it (a failure), ended here
    ADD_FAILURE() << "the process in the stale directory still runs";
    kill(server, SIGKILL);
    waitpid(server, &status, 0);
    return;
  }
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
}

// A files component with `directory`, and a postgres one that needs the scratch parent.
DrillSpec targets_spec(const std::string& directory, const std::string& scratch) {
  DrillSpec d;
  d.name = "t";
  d.scratch_dir = scratch;
  ComponentSpec f;
  f.name = "conf";
  f.kind = ComponentKind::Files;
  f.paths = {"/etc/app"};
  f.directory = directory;
  d.components.push_back(f);
  ComponentSpec db;
  db.name = "db";
  db.kind = ComponentKind::Postgres;
  db.source = "db";
  d.components.push_back(db);
  return d;
}

TEST(DrillTargets, ADirectoryMustBeAbsentOrEmpty) {
  TempDir t;
  fs::create_directories(t.path + "/empty");
  fs::create_directories(t.path + "/full");
  std::ofstream(t.path + "/full/precious") << "data";
  std::ofstream(t.path + "/file") << "x";
  EXPECT_EQ(target_problem(t.path + "/absent"), "");
  EXPECT_EQ(target_problem(t.path + "/empty"), "");
  EXPECT_TRUE(has(target_problem(t.path + "/full"), "not empty")) << target_problem(t.path + "/full");
  EXPECT_TRUE(has(target_problem("/"), "not empty"));
  EXPECT_TRUE(has(target_problem(t.path + "/file"), "not a directory"));

  EXPECT_TRUE(check_targets(targets_spec(t.path + "/empty", t.path)).empty());
  auto problems = check_targets(targets_spec(t.path + "/full", t.path));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_TRUE(has(problems[0], "components.conf.directory: " + t.path + "/full is not empty")) << problems[0];
  EXPECT_TRUE(fs::exists(t.path + "/full/precious"));
}

TEST(DrillTargets, TheScratchParentMustBeAWritableDirectory) {
  TempDir t;
  std::ofstream(t.path + "/file") << "x";
  auto problems = check_targets(targets_spec(t.path + "/out", t.path + "/missing"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_TRUE(has(problems[0], "scratch directory " + t.path + "/missing does not exist")) << problems[0];
  problems = check_targets(targets_spec(t.path + "/out", t.path + "/file"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_TRUE(has(problems[0], "is not a directory")) << problems[0];
  if (geteuid() != 0) {  // root writes anywhere
    fs::create_directories(t.path + "/ro");
    chmod((t.path + "/ro").c_str(), 0555);
    problems = check_targets(targets_spec(t.path + "/out", t.path + "/ro"));
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_TRUE(has(problems[0], "not writable")) << problems[0];
    chmod((t.path + "/ro").c_str(), 0755);
  }
  // Only files components with their own directory: no scratch is needed, none is checked.
  DrillSpec only_files = targets_spec(t.path + "/out", t.path + "/missing");
  only_files.components.pop_back();
  EXPECT_TRUE(check_targets(only_files).empty());
}

TEST(DrillTargets, AnUnknownSourceNamesTheSourcesOfItsKind) {
  std::vector<Snapshot> all(3);
  all[0].source_kind = "postgres", all[0].source_name = "postgres-7716596439454850734";
  all[1].source_kind = "redis", all[1].source_name = "redis-127.0.0.1-6379";
  all[2].source_kind = "postgres", all[2].source_name = "orders";
  EXPECT_EQ(unknown_source(all, "postgres", "orders"), "");
  const std::string msg = unknown_source(all, "postgres", "127.0.0.1:5432");
  EXPECT_TRUE(has(msg, "no postgres recovery point of source '127.0.0.1:5432'")) << msg;
  EXPECT_TRUE(has(msg, "orders, postgres-7716596439454850734")) << msg;
  EXPECT_FALSE(has(msg, "redis-127")) << msg;
  EXPECT_TRUE(has(unknown_source(all, "kafka", "events"), "nor of any other kafka source"));
}

}  // namespace
}  // namespace arca::drill
