// Tests of the drill file (src/drill/drill_spec.h): read into its structs, and each error with its
// line and field.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "drill/drill_components.h"
#include "drill/drill_failover.h"
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
  EXPECT_TRUE(has(e.message, "is the directory of component a too")) << e.message;

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

TEST(DrillTargetSpec, KafkaTargetsAreReadWithTheirPrefixes) {
  DrillSpec d = parsed(drill_with(
      "  ev:\n    kind: kafka\n    source: shop\n    topics: [orders]\n    groups: [billing, audit]\n"
      "    target: {brokers: [k1:9092, \"k2.example:9093\"], topic-prefix: drill-}\n"
      "  ev2:\n    kind: kafka\n    source: shop\n    target: {brokers: [k1:9092], topic-prefix: t., group-prefix: g.}\n"
      "  ev3: {kind: kafka, source: shop}\n"));
  const ComponentSpec& ev = d.components[0];
  EXPECT_TRUE(ev.target.given);
  EXPECT_EQ(ev.target.brokers, (std::vector<std::string>{"k1:9092", "k2.example:9093"}));
  EXPECT_EQ(ev.target.topic_prefix, "drill-");
  EXPECT_EQ(ev.target.group_prefix, "drill-");  // the topic prefix when not given
  EXPECT_EQ(ev.topics, std::vector<std::string>{"orders"});
  EXPECT_EQ(ev.groups, (std::vector<std::string>{"billing", "audit"}));
  EXPECT_FALSE(ev.production);
  EXPECT_EQ(d.components[1].target.topic_prefix, "t.");
  EXPECT_EQ(d.components[1].target.group_prefix, "g.");
  EXPECT_FALSE(d.components[2].target.given);  // a scratch cluster
  EXPECT_TRUE(d.components[2].groups.empty());
}

TEST(DrillTargetSpec, AKafkaTargetWithoutATopicPrefixNeedsProductionTrue) {
  ConfigError e = one_error(drill_with("  ev:\n    kind: kafka\n    source: shop\n    target: {brokers: [k1:9092]}\n"));
  EXPECT_EQ(e.line, 6);
  EXPECT_EQ(e.field, "components.ev.target");
  EXPECT_TRUE(has(e.message, "no topic-prefix")) << e.message;
  EXPECT_TRUE(has(e.message, "production: true")) << e.message;
  e = one_error(drill_with("  ev:\n    kind: kafka\n    source: shop\n    target: {brokers: [k1:9092], topic-prefix: \"\"}\n"));
  EXPECT_EQ(e.field, "components.ev.target.topic-prefix");
  // Said explicitly: the topics themselves, on that cluster.
  DrillSpec d = parsed(drill_with("  ev:\n    kind: kafka\n    source: shop\n    production: true\n"
                                  "    target: {brokers: [k1:9092]}\n"));
  EXPECT_TRUE(d.components[0].production);
  EXPECT_EQ(d.components[0].target.topic_prefix, "");
  EXPECT_EQ(d.components[0].target.group_prefix, "");
}

// Two components restore at once: one directory spelled twice, or one inside the other, is refused.
TEST(DrillSpec, ComponentDirectoriesMayNeitherMeetNorNest) {
  auto with_dirs = [](const std::string& a, const std::string& b) {
    return drill_with("  a: {kind: files, paths: [/x], directory: " + a + "}\n  b: {kind: files, paths: [/y], directory: " +
                      b + "}\n");
  };
  ConfigError e = one_error(with_dirs("/d/out", "/d/out/"));
  EXPECT_EQ(e.field, "components.b.directory");
  EXPECT_TRUE(has(e.message, "is the directory of component a too")) << e.message;
  e = one_error(with_dirs("/d/out", "/d/out/sub"));
  EXPECT_TRUE(has(e.message, "lie one inside the other")) << e.message;
  e = one_error(with_dirs("/d/./out/sub", "/d/out"));
  EXPECT_TRUE(has(e.message, "lie one inside the other")) << e.message;
  EXPECT_TRUE(parse_drill(with_dirs("/d/out", "/d/outer"), "d.yaml").spec) << "a name that only starts alike";
}

TEST(DrillSpec, AnRtoObjectiveOfZeroIsRefused) {
  ConfigError e = one_error(drill_with("  a: {kind: files, paths: [/x], objectives: {rto: 0s, rpo: 0}}\n"));
  EXPECT_EQ(e.field, "components.a.objectives.rto");
  EXPECT_TRUE(has(e.message, "above 0")) << e.message;
}

TEST(DrillSpec, TooManyComponentsAreRefusedAtOnce) {
  std::string many;
  for (int i = 0; i < 501; i++) many += "  c" + std::to_string(i) + ": {kind: files, paths: [/x" + std::to_string(i) + "]}\n";
  ConfigError e = one_error(drill_with(many));
  EXPECT_EQ(e.field, "components");
  EXPECT_TRUE(has(e.message, "501 components: a drill restores at most 500")) << e.message;
}

// An empty group-prefix with a topic prefix would commit under the production groups' names.
TEST(DrillTargetSpec, AnEmptyGroupPrefixNeedsProductionTrue) {
  ConfigError e = one_error(drill_with(
      "  ev:\n    kind: kafka\n    source: shop\n    target: {brokers: [k1:9092], topic-prefix: d-, group-prefix: \"\"}\n"));
  EXPECT_EQ(e.field, "components.ev.target.group-prefix");
  EXPECT_TRUE(has(e.message, "consumer groups' own names")) << e.message;
  DrillSpec d = parsed(drill_with("  ev:\n    kind: kafka\n    source: shop\n    production: true\n"
                                  "    target: {brokers: [k1:9092], topic-prefix: d-, group-prefix: \"\"}\n"));
  EXPECT_EQ(d.components[0].target.group_prefix, "");
}

TEST(DrillTargetSpec, BadKafkaTargetsAreNamed) {
  auto field_of = [](const std::string& component) { return one_error(drill_with(component)).field; };
  EXPECT_EQ(field_of("  ev: {kind: kafka, source: s, target: {topic-prefix: d-}}\n"), "components.ev.target.brokers");
  EXPECT_EQ(field_of("  ev: {kind: kafka, source: s, target: {brokers: [k1], topic-prefix: d-}}\n"),
            "components.ev.target.brokers");
  EXPECT_EQ(field_of("  ev: {kind: kafka, source: s, target: {brokers: [\"k1:99999\"], topic-prefix: d-}}\n"),
            "components.ev.target.brokers");
  EXPECT_EQ(field_of("  ev: {kind: kafka, source: s, target: {brokers: [], topic-prefix: d-}}\n"),
            "components.ev.target.brokers");
  EXPECT_EQ(field_of("  ev: {kind: kafka, source: s, target: {brokers: [k:1], topic-prefix: \"d/\"}}\n"),
            "components.ev.target.topic-prefix");
  EXPECT_EQ(field_of("  ev: {kind: kafka, source: s, target: {brokers: [k:1], topic-prefix: d-, url: x}}\n"),
            "components.ev.target.url");
  EXPECT_EQ(field_of("  ev: {kind: kafka, source: s, groups: []}\n"), "components.ev.groups");
  EXPECT_EQ(field_of("  c: {kind: redis, source: s, groups: [g]}\n"), "components.c.groups");
  EXPECT_EQ(field_of("  c: {kind: postgres, source: s, topics: [t]}\n"), "components.c.topics");
}

TEST(DrillTargetSpec, PostgresAndRedisTargetsAreRead) {
  DrillSpec d = parsed(drill_with(
      "  db:\n    kind: postgres\n    source: orders\n    target: {data-dir: /srv/pg-drill, port: 5499}\n"
      "  cache:\n    kind: redis\n    source: c\n    production: true\n"
      "    target: {url: \"redis://10.0.0.5:6380/2\", password-env: CACHE_PW}\n"
      "  cache2:\n    kind: redis\n    source: c\n    target: {url: \"redis://10.0.0.5:6380\", password-file: /etc/pw}\n"));
  EXPECT_EQ(d.components[0].target.data_dir, "/srv/pg-drill");
  EXPECT_EQ(d.components[0].target.port, 5499);
  EXPECT_EQ(d.components[1].target.url, "redis://10.0.0.5:6380/2");
  EXPECT_EQ(d.components[1].target.password.env, "CACHE_PW");
  EXPECT_TRUE(d.components[1].production);
  EXPECT_EQ(d.components[2].target.password.file, "/etc/pw");
}

TEST(DrillTargetSpec, BadPostgresAndRedisTargetsAreNamed) {
  ConfigError e = one_error(drill_with("  db: {kind: postgres, source: o, target: {data-dir: pg, port: 5499}}\n"));
  EXPECT_EQ(e.field, "components.db.target.data-dir");
  EXPECT_TRUE(has(e.message, "absolute")) << e.message;
  e = one_error(drill_with("  db: {kind: postgres, source: o, target: {data-dir: /srv/pg}}\n"));
  EXPECT_EQ(e.field, "components.db.target.port");
  EXPECT_TRUE(has(e.message, "port")) << e.message;
  e = one_error(drill_with("  db: {kind: postgres, source: o, target: {data-dir: /srv/pg, port: 70000}}\n"));
  EXPECT_EQ(e.field, "components.db.target.port");
  // Two components restoring into one data directory would write over each other.
  e = one_error(drill_with("  a: {kind: postgres, source: o, target: {data-dir: /srv/pg, port: 5499}}\n"
                           "  b: {kind: postgres, source: o, target: {data-dir: /srv/./pg, port: 5498}}\n"));
  EXPECT_EQ(e.line, 4);
  EXPECT_EQ(e.field, "components.b.target.data-dir");

  e = one_error(drill_with("  c: {kind: redis, source: c, target: {url: \"redis://:secret@h:6379/0\"}}\n"));
  EXPECT_EQ(e.field, "components.c.target.url");
  EXPECT_TRUE(has(e.message, "password-file or password-env")) << e.message;
  EXPECT_FALSE(has(e.message, "secret")) << "the password is not repeated: " << e.message;
  e = one_error(drill_with("  c: {kind: redis, source: c, target: {url: \"redis://h:6379\", password: pw}}\n"));
  EXPECT_EQ(e.field, "components.c.target.password");
  EXPECT_TRUE(has(e.message, "password-file")) << e.message;
  e = one_error(drill_with("  c: {kind: redis, source: c, target: {url: \"http://h\"}}\n"));
  EXPECT_EQ(e.field, "components.c.target.url");
  e = one_error(drill_with("  c: {kind: redis, source: c, target: {url: \"redis://h\", password-file: /a, password-env: B}}\n"));
  EXPECT_EQ(e.field, "components.c.target.password-env");
}

TEST(DrillTargetSpec, ProductionAndTargetOnlyWhereTheyApply) {
  ConfigError e = one_error(drill_with("  f: {kind: files, paths: [/x], target: {directory: /srv/r}}\n"));
  EXPECT_EQ(e.field, "components.f.target");
  EXPECT_TRUE(has(e.message, "directory:")) << e.message;
  e = one_error(drill_with("  f: {kind: files, paths: [/x], production: true}\n"));
  EXPECT_EQ(e.field, "components.f.production");
  // production: true without a target says nothing: scratch is never production.
  e = one_error(drill_with("  c: {kind: redis, source: c, production: true}\n"));
  EXPECT_EQ(e.field, "components.c.production");
  EXPECT_TRUE(has(e.message, "scratch")) << e.message;
  e = one_error(drill_with("  c: {kind: redis, source: c, production: yes-please, target: {url: \"redis://h\"}}\n"));
  EXPECT_EQ(e.field, "components.c.production");
}

TEST(DrillTargetSpec, APostgresDataDirectoryWithDataIsRefusedEvenInProduction) {
  TempDir t;
  fs::create_directories(t.path + "/pgdata");
  std::ofstream(t.path + "/pgdata/PG_VERSION") << "16\n";
  DrillSpec d = parsed(drill_with("  db:\n    kind: postgres\n    source: o\n    production: true\n"
                                  "    target: {data-dir: " + t.path + "/pgdata, port: 5499}\n"));
  auto problems = check_targets(d);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_TRUE(has(problems[0], "components.db.target.data-dir: " + t.path + "/pgdata is not empty")) << problems[0];
  fs::remove(t.path + "/pgdata/PG_VERSION");
  EXPECT_TRUE(check_targets(d).empty());
}

TEST(DrillTargetSpec, KafkaAndExplicitTargetsNeedNoScratchDirectory) {
  // The scratch Kafka cluster runs in the drill's process; explicit targets are elsewhere.
  DrillSpec d = parsed("drill: t\nscratch: /nonexistent-arca-scratch\ncomponents:\n"
                       "  ev: {kind: kafka, source: s}\n"
                       "  c: {kind: redis, source: c, target: {url: \"redis://h:6379/0\"}}\n");
  EXPECT_TRUE(check_targets(d).empty());
  d.components.push_back(parsed(drill_with("  r: {kind: redis, source: c}\n")).components[0]);
  auto problems = check_targets(d);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_TRUE(has(problems[0], "/nonexistent-arca-scratch does not exist")) << problems[0];
}

TEST(DrillFailoverSpec, FailoverIsReadAsTrueOrWithACatchUpTimeout) {
  DrillSpec d = parsed(drill_with("  a: {kind: postgres, source: o, failover: true}\n"
                                  "  b:\n    kind: postgres\n    source: o\n    recover-to: latest\n"
                                  "    failover: {catch-up-timeout: 90s}\n"
                                  "    target: {data-dir: /srv/pg-standby, port: 5433}\n"
                                  "  c: {kind: postgres, source: o, failover: false, recover-to: incident}\n"
                                  "  d: {kind: postgres, source: o}\n"));
  EXPECT_TRUE(d.components[0].failover);
  EXPECT_EQ(d.components[0].catch_up_timeout_s, 600);  // the default
  EXPECT_TRUE(d.components[1].failover);
  EXPECT_EQ(d.components[1].catch_up_timeout_s, 90);
  EXPECT_EQ(d.components[1].target.data_dir, "/srv/pg-standby");
  EXPECT_FALSE(d.components[2].failover);  // false: a point-in-time drill as before
  EXPECT_FALSE(d.components[3].failover);
}

TEST(DrillFailoverSpec, ARecoveryTargetOtherThanLatestIsRefusedWithItsLine) {
  // A standby replays everything archived: it cannot stop at a time, an LSN, a name or the backup.
  for (const std::string to : {"{time: \"2026-01-05T10:00:00Z\"}", "{lsn: 0/3000060}", "{name: x}", "backup", "incident"}) {
    ConfigError e = one_error(drill_with("  db:\n    kind: postgres\n    source: o\n    failover: true\n"
                                         "    recover-to: " + to + "\n"));
    EXPECT_EQ(e.line, 7) << to;
    EXPECT_EQ(e.field, "components.db.recover-to") << to;
    EXPECT_TRUE(has(e.message, "only recover-to: latest")) << e.message;
  }
  // Also when failover comes with its timeout, and whichever field is written first.
  ConfigError e = one_error(drill_with("  db:\n    kind: postgres\n    recover-to: backup\n    source: o\n"
                                       "    failover: {catch-up-timeout: 5m}\n"));
  EXPECT_EQ(e.line, 5);
  EXPECT_EQ(e.field, "components.db.recover-to");
}

TEST(DrillFailoverSpec, BadFailoverFieldsAreNamed) {
  ConfigError e = one_error(drill_with("  c:\n    kind: redis\n    source: c\n    failover: true\n"));
  EXPECT_EQ(e.line, 6);
  EXPECT_EQ(e.field, "components.c.failover");
  EXPECT_TRUE(has(e.message, "postgres components only")) << e.message;

  e = one_error(drill_with("  db: {kind: postgres, source: o, failover: soon}\n"));
  EXPECT_EQ(e.field, "components.db.failover");
  EXPECT_TRUE(has(e.message, "'soon' is not true or false")) << e.message;

  e = one_error(drill_with("  db:\n    kind: postgres\n    source: o\n    failover: {catch-up-timeout: 0s}\n"));
  EXPECT_EQ(e.line, 6);
  EXPECT_EQ(e.field, "components.db.failover.catch-up-timeout");
  EXPECT_TRUE(has(e.message, "above 0")) << e.message;

  e = one_error(drill_with("  db: {kind: postgres, source: o, failover: {catch-up-timeout: later}}\n"));
  EXPECT_EQ(e.field, "components.db.failover.catch-up-timeout");
  EXPECT_TRUE(has(e.message, "not a duration")) << e.message;

  e = one_error(drill_with("  db: {kind: postgres, source: o, failover: {catchup-timeout: 5m}}\n"));
  EXPECT_EQ(e.field, "components.db.failover.catchup-timeout");
  EXPECT_TRUE(has(e.message, "did you mean 'catch-up-timeout'")) << e.message;
}

TEST(DrillFailoverSpec, AGivenIncidentTimeIsRefusedForAFailover) {
  // The standby replays past it; the other components of such a drill are not concerned.
  const std::string before = rfc3339_utc(double(clock_now() - 60));
  ConfigError e = one_error("drill: t\nincident-time: " + before +
                            "\ncomponents:\n  f: {kind: files, paths: [/x]}\n  db:\n    kind: postgres\n"
                            "    source: o\n    failover: true\n");
  EXPECT_EQ(e.line, 8);
  EXPECT_EQ(e.field, "components.db.failover");
  EXPECT_TRUE(has(e.message, "incident-time")) << e.message;
  EXPECT_TRUE(parsed("drill: t\nincident-time: " + before +
                     "\ncomponents:\n  db: {kind: postgres, source: o, failover: false}\n")
                  .incident_time);
}

TEST(DrillFailoverCatchUp, CaughtUpOnlyOnceTheNewestSegmentIsReplayedAndNothingFollows) {
  const uint64_t seg = 16u << 20;  // 16 MiB segments
  const uint64_t newest = 5;       // 000000010000000000000005: LSNs 0/5000000 to 0/5FFFFFF
  auto at = [&](uint64_t segno, uint64_t offset) { return Lsn(segno * seg + offset); };
  // Still in an older segment: not caught up, even waiting for WAL (a gap in the archive) or idle.
  EXPECT_EQ(caught_up({at(4, 0x60), true, 60}, newest, seg, 5), "");
  // At the newest segment's first byte: the segment before it ended in a switch; the newest one
  // is not replayed yet.
  EXPECT_EQ(caught_up({at(5, 0), true, 60}, newest, seg, 5), "");
  EXPECT_EQ(caught_up({0, true, 60}, newest, seg, 5), "");
  // Inside the newest segment: caught up once the standby asked for the next and found none...
  EXPECT_EQ(caught_up({at(5, 0x1000), false, 0.5}, newest, seg, 5), "");
  EXPECT_TRUE(has(caught_up({at(5, 0x1000), true, 0.5}, newest, seg, 5), "asked for the next segment"));
  // ... or, where that wait is not visible, once replay stood still over two retries.
  EXPECT_EQ(caught_up({at(5, 0x1000), false, 9.9}, newest, seg, 5), "");
  EXPECT_TRUE(has(caught_up({at(5, 0x1000), false, 10.1}, newest, seg, 5), "two restore_command retries"));
  // The newest segment ended in a switch record: replay stands at the next segment's first byte.
  EXPECT_TRUE(has(caught_up({at(6, 0), true, 0}, newest, seg, 5), "asked for the next segment"));
  // No whole segment archived at all: the waiting alone tells.
  EXPECT_EQ(caught_up({at(2, 0x28), false, 1}, std::nullopt, seg, 5), "");
  EXPECT_FALSE(caught_up({at(2, 0x28), true, 1}, std::nullopt, seg, 5).empty());
}

TEST(DrillFailoverReport, TheFailoverTimeIsReportedAndReadBack) {
  DrillResult d;
  d.id = std::string(64, 'a');
  d.name = "fo";
  ComponentResult c;
  c.name = "db";
  c.kind = ComponentKind::Postgres;
  c.snapshot_id = std::string(64, 'b');
  c.phases = {{"locate", 0, 0.1}, {"restore", 0.1, 1}, {"start", 1, 2}, {"catch-up", 2, 3}, {"promote", 3, 3.4},
              {"validate", 3.4, 3.5}};
  c.failover_s = 0.5;
  ComponentResult other;  // not a failover: no failover time
  other.name = "f";
  d.components = {c, other};
  const nlohmann::json j = to_json(d);
  EXPECT_DOUBLE_EQ(j["components"][0]["failover_s"].get<double>(), 0.5);
  EXPECT_TRUE(j["components"][1]["failover_s"].is_null());
  DrillResult back = drill_result_from_json(j);
  EXPECT_EQ(back.components[0].failover_s, 0.5);
  EXPECT_FALSE(back.components[1].failover_s);
  EXPECT_TRUE(has(to_markdown(d), "**Failover** (promote + validate, from a standby kept caught up): ")) << to_markdown(d);
  EXPECT_TRUE(has(to_html(d), "class=\"ph promote\"")) << to_html(d);
}

}  // namespace
}  // namespace arca::drill
