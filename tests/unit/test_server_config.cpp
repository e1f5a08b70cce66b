// Tests of the server's configuration file (src/server/config.h): a full file read into its
// structs, and each rule reported with its line and field.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "server/config.h"
#include "server/schedule.h"
#include "test_util.h"

using namespace arca::server;

namespace {

// Lines are counted from 1 at "server:"/"repositories:" as the raw string starts after R"(\n.
const char* kFull = R"(
server:
  listen: "0.0.0.0:9000"
  tls: {certificate: /etc/arca/cert.pem, key: /etc/arca/key.pem}
  catalog: /var/lib/arca/c.db
  log-format: json
  max-jobs: 6
  shutdown-grace: 1m
  lease: 45s
repositories:
  main:
    location: /srv/backups
    options: {s3.region: eu-1}
    password-file: /etc/arca/main.pass
    max-jobs: 2
  offsite:
    location: s3:https://s3.example/bucket
    key-file: /etc/arca/offsite.key
sources:
  pg:
    kind: postgres
    repository: main
    host: db1
    tags: [prod, db]
    objectives: {rpo: 5m, rto: 15m}
    conninfo: "host=db1 port=5432 user=arca dbname=postgres"
    password-env: PGPASSWORD
    wal-stream: {enabled: true, slot: arca_slot, backoff-min: 2s, backoff-max: 10m, stall-after: 3m}
  cache:
    kind: redis
    repository: main
    url: redis://cache:6379/0
    password-file: /etc/arca/redis.pass
  events:
    kind: kafka
    repository: offsite
    brokers: [k1:9092, k2:9092]
    topics: "orders\\..*"
    groups: [billing]
    continuous: {enabled: true, interval: 30s, retention: {keep-within: 90d}}
  etc:
    kind: files
    repository: main
    paths: [/etc, /srv/app/config]
    excludes: ["*.swp"]
    one-file-system: true
    max-jobs: 2
plans:
  pg-daily:
    source: pg
    schedule: {cron: "0 3 * * *", time-zone: Europe/Berlin}
    start-window: 2h
    completion-window: 4h
    overlap: queue
    catch-up: one
    paused: true
    run-on-create: true
    retention: {keep-within: 30d, keep-monthly: 12, keep-tag: [manual]}
  etc-verify:
    kind: verify
    source: etc
    schedule: {every: 1w}
    read-data-subset: 5%
  weekly-check:
    kind: check
    repository: main
    schedule: {cron: "@weekly"}
    read-data-subset: 1/4
  prune:
    kind: prune
    repository: offsite
    schedule: {every: 1d}
    prune-grace: 2d
    max-unused: 10%
notifications:
  webhooks:
    - url: https://hooks.example/arca
      secret-file: /etc/arca/hook.key
      events: [BACKUP_JOB_FAILED]
  email:
    smtp-host: mail.example
    smtp-port: 587
    starttls: true
    username: arca
    password-env: SMTP_PW
    from: arca@example.org
    to: [ops@example.org]
    digest-at: "07:30"
)";

ConfigLoad parse(const std::string& text) { return parse_config(text, "/etc/arca/server.yaml"); }

// The only error of `text` (a test failure, with all of them printed, if there is not exactly one).
ConfigError only_error(const std::string& text) {
  ConfigLoad r = parse(text);
  std::string all;
  for (const auto& e : r.errors) all += e.to_string("f") + "\n";
  EXPECT_EQ(r.errors.size(), 1u) << all;
  EXPECT_FALSE(r.config.has_value());
  return r.errors.empty() ? ConfigError{} : r.errors[0];
}

// A valid base to which each test adds its mistake.
const char* kBase = R"(repositories:
  main: {location: /srv/r, password-file: /etc/arca/pw}
sources:
  etc: {kind: files, repository: main, paths: [/etc]}
)";

std::string with_base(const std::string& more) { return std::string(kBase) + more; }

}  // namespace

TEST(ServerConfig, FullFileParsesWithItsValues) {
  ConfigLoad r = parse(kFull);
  for (const auto& e : r.errors) ADD_FAILURE() << e.to_string("full");
  ASSERT_TRUE(r.config);
  const ServerConfig& c = *r.config;
  EXPECT_EQ(c.server.listen, "0.0.0.0:9000");
  EXPECT_EQ(c.server.tls_certificate, "/etc/arca/cert.pem");
  EXPECT_EQ(c.server.tls_key, "/etc/arca/key.pem");
  EXPECT_EQ(c.server.catalog, "/var/lib/arca/c.db");
  EXPECT_EQ(c.server.log_format, "json");
  EXPECT_EQ(c.server.max_jobs, 6);
  EXPECT_EQ(c.server.shutdown_grace_s, 60);
  EXPECT_EQ(c.server.lease_s, 45);

  ASSERT_EQ(c.repositories.size(), 2u);
  const RepositoryConfig* main = c.repository("main");
  ASSERT_TRUE(main);
  EXPECT_EQ(main->location, "/srv/backups");
  EXPECT_EQ(main->options.at("s3.region"), "eu-1");
  EXPECT_EQ(main->password.file, "/etc/arca/main.pass");
  EXPECT_EQ(main->max_jobs, 2);
  EXPECT_EQ(main->line, 11);
  EXPECT_EQ(c.repository("offsite")->key_file, "/etc/arca/offsite.key");
  EXPECT_TRUE(c.repository("offsite")->password.empty());

  ASSERT_EQ(c.sources.size(), 4u);
  const SourceConfig* pg = c.source("pg");
  ASSERT_TRUE(pg);
  EXPECT_EQ(pg->kind, SourceKind::Postgres);
  EXPECT_EQ(pg->repository, "main");
  EXPECT_EQ(pg->host, "db1");
  EXPECT_EQ(pg->tags, (std::vector<std::string>{"prod", "db"}));
  EXPECT_EQ(pg->objectives.rpo_s, 300);
  EXPECT_EQ(pg->objectives.rto_s, 900);
  EXPECT_EQ(pg->conninfo, "host=db1 port=5432 user=arca dbname=postgres");
  EXPECT_EQ(pg->pg_password.env, "PGPASSWORD");
  EXPECT_TRUE(pg->stream.enabled);
  EXPECT_EQ(pg->stream.slot, "arca_slot");
  EXPECT_EQ(pg->stream.backoff_min_s, 2);
  EXPECT_EQ(pg->stream.backoff_max_s, 600);
  EXPECT_EQ(pg->stream.stall_after_s, 180);
  const SourceConfig* cache = c.source("cache");
  EXPECT_EQ(cache->url, "redis://cache:6379/0");
  EXPECT_EQ(cache->redis_password.file, "/etc/arca/redis.pass");
  EXPECT_FALSE(cache->host.empty());  // this machine's name
  const SourceConfig* events = c.source("events");
  EXPECT_EQ(events->brokers, (std::vector<std::string>{"k1:9092", "k2:9092"}));
  EXPECT_EQ(events->topics, "orders\\..*");
  EXPECT_EQ(events->groups, (std::vector<std::string>{"billing"}));
  EXPECT_TRUE(events->stream.enabled);
  EXPECT_EQ(events->stream.interval_s, 30);
  EXPECT_EQ(events->stream.backoff_max_s, 300);  // default
  const SourceConfig* etc = c.source("etc");
  EXPECT_EQ(etc->paths, (std::vector<std::string>{"/etc", "/srv/app/config"}));
  EXPECT_EQ(etc->excludes, (std::vector<std::string>{"*.swp"}));
  EXPECT_TRUE(etc->one_file_system);
  EXPECT_EQ(etc->max_jobs, 2);
  EXPECT_EQ(cache->max_jobs, 1);

  ASSERT_EQ(c.plans.size(), 6u);  // four written, two streams
  const PlanConfig* daily = c.plan("pg-daily");
  ASSERT_TRUE(daily);
  EXPECT_EQ(daily->kind, JobKind::Backup);
  EXPECT_EQ(daily->source, "pg");
  EXPECT_EQ(daily->schedule.cron, "0 3 * * *");
  EXPECT_EQ(daily->schedule.time_zone, "Europe/Berlin");
  EXPECT_EQ(daily->start_window_s, 7200);
  EXPECT_EQ(daily->completion_window_s, 4 * 3600);
  EXPECT_EQ(daily->overlap, OverlapPolicy::Queue);
  EXPECT_EQ(daily->catch_up, CatchUp::One);
  EXPECT_TRUE(daily->paused);
  EXPECT_TRUE(daily->run_on_create);
  ASSERT_TRUE(daily->retention);
  EXPECT_EQ(daily->retention->within, "30d");
  EXPECT_EQ(daily->retention->monthly, 12);
  EXPECT_EQ(daily->retention->keep_tags, (std::vector<std::string>{"manual"}));
  const PlanConfig* verify = c.plan("etc-verify");
  EXPECT_EQ(verify->kind, JobKind::Verify);
  EXPECT_EQ(verify->schedule.interval_s, 7 * 86400);
  EXPECT_TRUE(verify->schedule.cron.empty());
  EXPECT_EQ(verify->read_data_subset, "5%");
  EXPECT_EQ(verify->start_window_s, 3600);  // default
  EXPECT_EQ(verify->overlap, OverlapPolicy::Skip);
  const PlanConfig* check = c.plan("weekly-check");
  EXPECT_EQ(check->kind, JobKind::Check);
  EXPECT_EQ(check->repository, "main");
  EXPECT_EQ(check->schedule.cron, "@weekly");
  EXPECT_EQ(check->schedule.time_zone, "UTC");
  const PlanConfig* prune = c.plan("prune");
  EXPECT_EQ(prune->kind, JobKind::Prune);
  EXPECT_EQ(prune->prune_grace, "2d");
  EXPECT_EQ(prune->prune_max_unused, "10%");
  const PlanConfig* stream = c.plan("pg.stream");
  ASSERT_TRUE(stream);
  EXPECT_EQ(stream->kind, JobKind::Stream);
  EXPECT_EQ(stream->source, "pg");
  EXPECT_TRUE(stream->schedule.continuous);
  const PlanConfig* archive = c.plan("events.stream");
  ASSERT_TRUE(archive);
  ASSERT_TRUE(archive->retention);  // continuous.retention: the archive's points have no backup plan
  EXPECT_EQ(archive->retention->within, "90d");
  EXPECT_FALSE(stream->retention);
  EXPECT_FALSE(c.plan("cache.stream"));

  ASSERT_EQ(c.webhooks.size(), 1u);
  EXPECT_EQ(c.webhooks[0].url, "https://hooks.example/arca");
  EXPECT_EQ(c.webhooks[0].secret.file, "/etc/arca/hook.key");
  EXPECT_EQ(c.webhooks[0].events, (std::vector<std::string>{"BACKUP_JOB_FAILED"}));
  ASSERT_TRUE(c.email);
  EXPECT_EQ(c.email->smtp_host, "mail.example");
  EXPECT_EQ(c.email->smtp_port, 587);
  EXPECT_TRUE(c.email->starttls);
  EXPECT_EQ(c.email->password.env, "SMTP_PW");
  EXPECT_EQ(c.email->to, (std::vector<std::string>{"ops@example.org"}));
  EXPECT_EQ(c.email->digest_at, "07:30");
  EXPECT_EQ(c.path, "/etc/arca/server.yaml");
}

TEST(ServerConfig, DefaultsOfAnEmptyFile) {
  ConfigLoad r = parse("");
  ASSERT_TRUE(r.config);
  EXPECT_EQ(r.config->server.listen, "127.0.0.1:8670");
  EXPECT_EQ(r.config->server.max_jobs, 4);
  EXPECT_TRUE(r.config->plans.empty());
}

TEST(ServerConfig, ParseDuration) {
  EXPECT_EQ(parse_duration("90s"), 90);
  EXPECT_EQ(parse_duration("15m"), 900);
  EXPECT_EQ(parse_duration("1h30m"), 5400);
  EXPECT_EQ(parse_duration("2d"), 2 * 86400);
  EXPECT_EQ(parse_duration("1w"), 7 * 86400);
  EXPECT_EQ(parse_duration("45"), 45);
  EXPECT_EQ(parse_duration("0"), 0);
  for (const char* bad : {"", "m", "1x", "30m1h", "1h1h", "-5s", "1.5h", "1h ", "99999999999999999999s"})
    EXPECT_FALSE(parse_duration(bad)) << bad;
}

TEST(ServerConfig, EveryErrorAtOnceInLineOrder) {
  ConfigLoad r = parse(with_base(R"(plans:
  a: {source: etc, schedule: {every: soon}}
  b: {source: nope, schedule: {every: 1h}}
)"));
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].line, 6);
  EXPECT_EQ(r.errors[0].field, "plans.a.schedule.every");
  EXPECT_EQ(r.errors[1].line, 7);
  EXPECT_EQ(r.errors[1].field, "plans.b.source");
  EXPECT_EQ(r.errors[1].to_string("x.yaml").rfind("x.yaml:7:", 0), 0u) << r.errors[1].to_string("x.yaml");
}

TEST(ServerConfig, IntervalOffsetFixedOrAutoAndItsErrors) {
  ConfigLoad r = parse(with_base(R"(plans:
  a: {source: etc, schedule: {every: 1h, offset: 15m}}
  b: {source: etc, schedule: {every: 1m, offset: auto}}
)"));
  ASSERT_TRUE(r.errors.empty()) << r.errors[0].message;
  EXPECT_EQ(r.config->plan("a")->schedule.offset_s, 900);
  EXPECT_EQ(r.config->plan("b")->schedule.offset_s, Schedule::auto_offset("b", 60));
  r = parse(with_base(R"(plans:
  a: {source: etc, schedule: {every: 1h, offset: 1h}}
  b: {source: etc, schedule: {cron: "0 2 * * *", offset: 5m}}
)"));
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].field, "plans.a.schedule.offset");
  EXPECT_NE(r.errors[0].message.find("less than every"), std::string::npos) << r.errors[0].message;
  EXPECT_EQ(r.errors[1].field, "plans.b.schedule.offset");
  EXPECT_NE(r.errors[1].message.find("every only"), std::string::npos) << r.errors[1].message;
}

TEST(ServerConfig, InvalidYamlHasItsPosition) {
  ConfigError e = only_error("server:\n  listen: [unclosed\n");
  EXPECT_GT(e.line, 0);
  EXPECT_NE(e.message.find("YAML"), std::string::npos);
}

TEST(ServerConfig, UnknownKeySuggestsTheNearest) {
  ConfigError e = only_error(with_base(R"(plans:
  a:
    source: etc
    schedule: {cron: "0 2 * * 0", timezone: UTC}
)"));
  EXPECT_EQ(e.line, 8);
  EXPECT_EQ(e.column, 35);
  EXPECT_EQ(e.field, "plans.a.schedule.timezone");
  EXPECT_NE(e.message.find("did you mean 'time-zone'?"), std::string::npos) << e.message;
}

TEST(ServerConfig, UnknownTopLevelKey) {
  ConfigError e = only_error(with_base("sorces: {}\n"));
  EXPECT_EQ(e.line, 5);
  EXPECT_EQ(e.field, "sorces");
  EXPECT_NE(e.message.find("'sources'"), std::string::npos);
}

TEST(ServerConfig, InlinePasswordKeyIsRefused) {
  ConfigError e = only_error(R"(repositories:
  main:
    location: /srv/r
    password-file: /etc/arca/pw
    password: hunter2
)");
  EXPECT_EQ(e.line, 5);
  EXPECT_EQ(e.field, "repositories.main.password");
  EXPECT_NE(e.message.find("password-file"), std::string::npos);
  EXPECT_NE(e.message.find("password-env"), std::string::npos);
}

TEST(ServerConfig, WrongTypes) {
  ConfigLoad r = parse(with_base(R"(server:
  max-jobs: many
  listen: [a, b]
  log-format: xml
plans:
  a: {source: etc, schedule: {every: 1h}, paused: maybe}
)"));
  ASSERT_EQ(r.errors.size(), 4u);
  EXPECT_EQ(r.errors[0].field, "server.max-jobs");
  EXPECT_EQ(r.errors[0].line, 6);
  EXPECT_EQ(r.errors[1].field, "server.listen");
  EXPECT_EQ(r.errors[1].line, 7);
  EXPECT_EQ(r.errors[2].field, "server.log-format");
  EXPECT_EQ(r.errors[3].field, "plans.a.paused");
  EXPECT_EQ(r.errors[3].line, 10);
}

TEST(ServerConfig, BadDuration) {
  ConfigError e = only_error(with_base("server: {shutdown-grace: 30 seconds}\n"));
  EXPECT_EQ(e.line, 5);
  EXPECT_EQ(e.field, "server.shutdown-grace");
  EXPECT_NE(e.message.find("1h30m"), std::string::npos);
}

TEST(ServerConfig, UnknownRepositoryReference) {
  ConfigError e = only_error(with_base("  pg: {kind: redis, repository: mian, url: \"redis://h:1\"}\n"));
  EXPECT_EQ(e.line, 5);
  EXPECT_EQ(e.field, "sources.pg.repository");
  EXPECT_NE(e.message.find("did you mean 'main'?"), std::string::npos) << e.message;
}

TEST(ServerConfig, UnknownSourceReference) {
  ConfigError e = only_error(with_base("plans:\n  v: {kind: verify, source: db, schedule: {every: 1d}}\n"));
  EXPECT_EQ(e.line, 6);
  EXPECT_EQ(e.field, "plans.v.source");
}

TEST(ServerConfig, BackupPlanWithoutSource) {
  ConfigError e = only_error(with_base("plans:\n  b:\n    schedule: {every: 1d}\n"));
  EXPECT_EQ(e.line, 7);
  EXPECT_EQ(e.field, "plans.b.source");
  EXPECT_NE(e.message.find("missing"), std::string::npos);
}

TEST(ServerConfig, PruneWithoutRepositoryAndBackupWithOne) {
  ConfigLoad r = parse(with_base(R"(plans:
  p: {kind: prune, schedule: {every: 1d}}
  b: {source: etc, repository: main, schedule: {every: 1d}}
)"));
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].field, "plans.p.repository");
  EXPECT_EQ(r.errors[0].line, 6);
  EXPECT_EQ(r.errors[1].field, "plans.b.repository");
  EXPECT_EQ(r.errors[1].line, 7);
  EXPECT_NE(r.errors[1].message.find("source's repository"), std::string::npos);
}

TEST(ServerConfig, RepositoryNeedsExactlyOneCredential) {
  ConfigLoad r = parse(R"(repositories:
  none: {location: /a}
  two: {location: /b, password-file: /p, key-file: /k}
  both: {location: /c, password-file: /p, password-env: P}
)");
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[0].field, "repositories.none");
  EXPECT_EQ(r.errors[0].line, 2);
  EXPECT_EQ(r.errors[1].field, "repositories.two.key-file");
  EXPECT_EQ(r.errors[1].line, 3);
  EXPECT_EQ(r.errors[2].field, "repositories.both.password-env");
  EXPECT_EQ(r.errors[2].line, 4);
}

TEST(ServerConfig, TlsNeedsBothFiles) {
  ConfigError e = only_error(with_base("server:\n  tls:\n    certificate: /c.pem\n"));
  EXPECT_EQ(e.line, 7);
  EXPECT_EQ(e.field, "server.tls");
  EXPECT_NE(e.message.find("key is missing"), std::string::npos);
}

TEST(ServerConfig, ListenIsHostPort) {
  for (const char* bad : {"8670", ":8670", "localhost:0", "localhost:http", "::1:8670"}) {
    ConfigError e = only_error(with_base(std::string("server: {listen: \"") + bad + "\"}\n"));
    EXPECT_EQ(e.line, 5) << bad;
    EXPECT_EQ(e.field, "server.listen") << bad;
  }
  EXPECT_TRUE(parse(with_base("server: {listen: \"[::1]:8670\"}\n")).config);
}

TEST(ServerConfig, CronShape) {
  for (const char* bad : {"0 2 * *", "0 2 * * 0 1", "@fortnightly", "0 2 * * SUN;"}) {
    ConfigError e =
        only_error(with_base(std::string("plans:\n  a: {source: etc, schedule: {cron: \"") + bad + "\"}}\n"));
    EXPECT_EQ(e.line, 6) << bad;
    EXPECT_EQ(e.field, "plans.a.schedule.cron") << bad;
  }
  ConfigError both = only_error(with_base("plans:\n  a: {source: etc, schedule: {cron: \"@daily\", every: 1h}}\n"));
  EXPECT_EQ(both.field, "plans.a.schedule");
}

TEST(ServerConfig, TimeZoneMustExist) {
  for (const char* bad : {"Europe/Berln", "../../etc/passwd", "/usr/share/zoneinfo/UTC", "Europe"}) {
    ConfigError e = only_error(with_base(std::string("plans:\n  a:\n    source: etc\n    schedule:\n      cron: "
                                                     "\"0 2 * * 0\"\n      time-zone: \"") +
                                         bad + "\"\n"));
    EXPECT_EQ(e.line, 10) << bad;
    EXPECT_EQ(e.field, "plans.a.schedule.time-zone") << bad;
  }
}

TEST(ServerConfig, ReadDataSubsetForm) {
  for (const char* bad : {"5", "0%", "150%", "5/3", "0/3", "a/b"}) {
    ConfigError e = only_error(with_base(
        std::string("plans:\n  c: {kind: check, repository: main, schedule: {every: 1d}, read-data-subset: \"") + bad +
        "\"}\n"));
    EXPECT_EQ(e.line, 6) << bad;
    EXPECT_EQ(e.field, "plans.c.read-data-subset") << bad;
  }
  ConfigError wrong_kind = only_error(with_base(R"(  r: {kind: redis, repository: main, url: "redis://h:1"}
plans:
  v: {kind: verify, source: r, schedule: {every: 1d}, read-data-subset: 5%}
)"));
  EXPECT_EQ(wrong_kind.line, 7);
  EXPECT_EQ(wrong_kind.field, "plans.v.read-data-subset");
}

TEST(ServerConfig, PlanNames) {
  ConfigError e = only_error(with_base("plans:\n  \"night ly\": {source: etc, schedule: {every: 1d}}\n"));
  EXPECT_EQ(e.line, 6);
  EXPECT_EQ(e.field, "plans.night ly");
}

TEST(ServerConfig, StreamPlanNameIsTaken) {
  ConfigError e = only_error(R"(repositories:
  main: {location: /srv/r, password-file: /etc/arca/pw}
sources:
  pg: {kind: postgres, repository: main, wal-stream: {enabled: true}}
plans:
  pg.stream: {source: pg, schedule: {every: 1d}}
)");
  EXPECT_EQ(e.line, 6);
  EXPECT_EQ(e.field, "plans.pg.stream");
}

TEST(ServerConfig, ReplicasGetAReplicationPlan) {
  ConfigLoad r = parse(R"(repositories:
  main:
    location: /srv/r
    password-file: /etc/arca/pw
    replicas:
      dr: {location: /mnt/dr, options: {s3.profile: dr}, streams: 4, interval: 10s}
)");
  ASSERT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0].message);
  const RepositoryConfig* main = r.config->repository("main");
  ASSERT_EQ(main->replicas.size(), 1u);
  EXPECT_EQ(main->replicas[0].location, "/mnt/dr");
  EXPECT_EQ(main->replicas[0].streams, 4);
  EXPECT_EQ(main->replicas[0].interval_s, 10);
  EXPECT_EQ(main->replicas[0].options.at("s3.profile"), "dr");
  const PlanConfig* p = r.config->plan("main.replicate.dr");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->kind, JobKind::Stream);
  EXPECT_TRUE(p->schedule.continuous);
  EXPECT_EQ(p->repository, "main");
  EXPECT_EQ(p->replica, "dr");
  EXPECT_TRUE(p->source.empty());
}

TEST(ServerConfig, ReplicaErrors) {
  ConfigError same = only_error(R"(repositories:
  main:
    location: /srv/r
    password-file: /etc/arca/pw
    replicas: {dr: {location: /srv/r}}
)");
  EXPECT_EQ(same.field, "repositories.main.replicas.dr.location");
  EXPECT_NE(same.message.find("the repository itself"), std::string::npos) << same.message;
  ConfigError missing = only_error(R"(repositories:
  main:
    location: /srv/r
    password-file: /etc/arca/pw
    replicas: {dr: {interval: 10s}}
)");
  EXPECT_EQ(missing.field, "repositories.main.replicas.dr.location");
  ConfigError unknown = only_error(R"(repositories:
  main:
    location: /srv/r
    password-file: /etc/arca/pw
    replicas: {dr: {location: /mnt/dr, password-file: /x}}
)");
  EXPECT_EQ(unknown.field, "repositories.main.replicas.dr.password-file");
  EXPECT_EQ(unknown.line, 5);
  ConfigError twice = only_error(R"(repositories:
  main:
    location: /srv/r
    password-file: /etc/arca/pw
    replicas: {dr: {location: /mnt/dr}, dr2: {location: /mnt/dr}}
)");
  EXPECT_EQ(twice.field, "repositories.main.replicas.dr2.location");
  EXPECT_NE(twice.message.find("also replica 'dr'"), std::string::npos) << twice.message;
}

TEST(ServerConfig, FieldOfAnotherSourceKind) {
  ConfigError e = only_error(with_base("  r: {kind: redis, repository: main, url: \"redis://h:1\", paths: [/x]}\n"));
  EXPECT_EQ(e.line, 5);
  EXPECT_EQ(e.field, "sources.r.paths");
  EXPECT_NE(e.message.find("files sources only"), std::string::npos);
}

TEST(ServerConfig, RetentionOnlyOnBackupAndNotEmpty) {
  ConfigLoad r = parse(with_base(R"(plans:
  c: {kind: check, repository: main, schedule: {every: 1d}, retention: {keep-last: 3}}
  b: {source: etc, schedule: {every: 1d}, retention: {}}
  d: {source: etc, schedule: {every: 1d}, retention: {keep-within: 30m}}
)"));
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[0].field, "plans.c.retention");
  EXPECT_EQ(r.errors[1].field, "plans.b.retention");
  EXPECT_EQ(r.errors[1].line, 7);
  EXPECT_EQ(r.errors[2].field, "plans.d.retention.keep-within");  // "m" is ambiguous in forget's spans
  EXPECT_EQ(r.errors[2].line, 8);
}

TEST(ServerConfig, InlineSecretsNeedAPrivateFile) {
  TempDir dir;
  const std::string path = dir.path + "/server.yaml";
  {
    std::ofstream f(path);
    f << "repositories:\n"
         "  s3:\n"
         "    location: s3:https://s3.example/b\n"
         "    options: {s3.access-key: AK, s3.secret-key: SK}\n"
         "    password-env: ARCA_PW\n"
         "sources:\n"
         "  r: {kind: redis, repository: s3, url: \"redis://:pw@cache:6379\"}\n";
  }
  // parse_config cannot see the file's mode: the text alone is accepted.
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(parse_config(text, path).config);

  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  ConfigLoad open = load_config(path);
  EXPECT_FALSE(open.config);
  ASSERT_EQ(open.errors.size(), 2u);
  EXPECT_EQ(open.errors[0].line, 4);
  EXPECT_EQ(open.errors[0].field, "repositories.s3.options.s3.secret-key");
  EXPECT_NE(open.errors[0].message.find(path + " is readable by group or others (mode 0644): chmod 600 " + path),
            std::string::npos)
      << open.errors[0].message;
  EXPECT_EQ(open.errors[1].line, 7);
  EXPECT_EQ(open.errors[1].field, "sources.r.url");

  ASSERT_EQ(chmod(path.c_str(), 0600), 0);
  ConfigLoad closed = load_config(path);
  for (const auto& e : closed.errors) ADD_FAILURE() << e.to_string(path);
  EXPECT_TRUE(closed.config);
}

TEST(ServerConfig, ConninfoPasswordIsASecret) {
  TempDir dir;
  const std::string path = dir.path + "/server.yaml";
  std::ofstream(path) << "repositories:\n  m: {location: /srv/r, password-env: P}\n"
                         "sources:\n  pg: {kind: postgres, repository: m, conninfo: \"host=db password=x\"}\n";
  ASSERT_EQ(chmod(path.c_str(), 0640), 0);
  ConfigLoad r = load_config(path);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 4);
  EXPECT_EQ(r.errors[0].field, "sources.pg.conninfo");
}

TEST(ServerConfig, LoadResolvesFilesAndChecksTheyExist) {
  TempDir dir;
  const std::string path = dir.path + "/server.yaml";
  std::ofstream(dir.path + "/repo.pass") << "pw\n";
  ASSERT_EQ(chmod((dir.path + "/repo.pass").c_str(), 0600), 0);
  std::ofstream(path) << "repositories:\n  m: {location: /srv/r, password-file: repo.pass}\n"
                         "  n: {location: /srv/s, key-file: missing.key}\n";
  ConfigLoad r = load_config(path);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 3);
  EXPECT_EQ(r.errors[0].field, "repositories.n.key-file");
  EXPECT_NE(r.errors[0].message.find(dir.path + "/missing.key"), std::string::npos);
}

// Every file a secret is read from is refused when group or others can read it, like the
// configuration itself: a password, key or secret file and the TLS key; the certificate is public.
TEST(ServerConfig, SecretFilesMustBePrivate) {
  TempDir dir;
  const std::string path = dir.path + "/server.yaml";
  for (const char* f : {"repo.pass", "repo.key", "pg.pass", "hook.key", "smtp.pass", "tls.key", "tls.crt"}) {
    std::ofstream(dir.path + "/" + f) << "x\n";
    ASSERT_EQ(chmod((dir.path + "/" + f).c_str(), 0644), 0);
  }
  std::ofstream(path) << "server:\n  tls: {certificate: tls.crt, key: tls.key}\n"
                         "repositories:\n"
                         "  m: {location: /srv/r, password-file: repo.pass}\n"
                         "  n: {location: /srv/s, key-file: repo.key}\n"
                         "sources:\n  pg: {kind: postgres, repository: m, conninfo: \"host=db\", password-file: pg.pass}\n"
                         "notifications:\n"
                         "  webhooks: [{url: \"https://hooks.example/x\", secret-file: hook.key}]\n"
                         "  email: {smtp-host: mail, password-file: smtp.pass, from: a@b.example, to: [c@d.example]}\n";
  ASSERT_EQ(chmod(path.c_str(), 0600), 0);
  ConfigLoad open = load_config(path);
  EXPECT_FALSE(open.config);
  ASSERT_EQ(open.errors.size(), 6u);
  const std::vector<std::pair<int, std::string>> want{{2, "server.tls.key"},
                                                      {4, "repositories.m.password-file"},
                                                      {5, "repositories.n.key-file"},
                                                      {7, "sources.pg.password-file"},
                                                      {9, "notifications.webhooks[0].secret-file"},
                                                      {10, "notifications.email.password-file"}};
  for (size_t i = 0; i < want.size(); i++) {
    EXPECT_EQ(open.errors[i].line, want[i].first) << open.errors[i].to_string(path);
    EXPECT_EQ(open.errors[i].field, want[i].second) << open.errors[i].to_string(path);
  }
  const std::string pass = dir.path + "/repo.pass";
  EXPECT_EQ(open.errors[1].message,
            "names a file that holds a secret, and " + pass + " is readable by group or others (mode 0644): chmod 600 " + pass);

  for (const char* f : {"repo.pass", "repo.key", "pg.pass", "hook.key", "smtp.pass", "tls.key"})
    ASSERT_EQ(chmod((dir.path + "/" + f).c_str(), 0600), 0);
  ASSERT_EQ(chmod((dir.path + "/repo.pass").c_str(), 0640), 0);  // group-readable is refused too
  ConfigLoad group = load_config(path);
  ASSERT_EQ(group.errors.size(), 1u);
  EXPECT_NE(group.errors[0].message.find("(mode 0640)"), std::string::npos) << group.errors[0].message;

  ASSERT_EQ(chmod((dir.path + "/repo.pass").c_str(), 0400), 0);
  ConfigLoad closed = load_config(path);
  for (const auto& e : closed.errors) ADD_FAILURE() << e.to_string(path);
  EXPECT_TRUE(closed.config);
}

// yaml-cpp's own words for a tab in the indentation ("illegal map value") do not say what to fix.
TEST(ServerConfig, TabIndentationIsNamed) {
  for (const char* text : {"server:\n\tlisten: \"127.0.0.1:1\"\n", "server:\n  max-jobs: 2\n  \tlease: 9s\n"}) {
    ConfigError e = only_error(text);
    EXPECT_EQ(e.message, "tabs are not allowed for indentation in YAML: use spaces") << text;
    EXPECT_EQ(e.line, std::string(text).find("max-jobs") == std::string::npos ? 2 : 3) << text;
  }
  // Elsewhere a tab is only white space (after a value's colon), and other syntax errors keep
  // yaml-cpp's message.
  EXPECT_TRUE(parse("server:\n  max-jobs:\t2\n").config);
  EXPECT_NE(only_error("server:\n  listen: [unclosed\n").message.find("not valid YAML"), std::string::npos);
}

TEST(ServerConfig, MissingFileIsNotFound) {
  EXPECT_EQ(arca::testing::kind_of([] { load_config("/nonexistent/arca-server.yaml"); }), arca::ErrorKind::NotFound);
}

TEST(ServerConfig, NotificationFields) {
  ConfigLoad r = parse(R"(notifications:
  webhooks:
    - url: ftp://x
      secret-file: /k
      secret-env: K
  email: {smtp-host: m, from: nobody, to: [], digest-at: "25:00"}
)");
  ASSERT_EQ(r.errors.size(), 5u);
  EXPECT_EQ(r.errors[0].field, "notifications.webhooks[0].url");
  EXPECT_EQ(r.errors[1].field, "notifications.webhooks[0].secret-env");
  EXPECT_EQ(r.errors[2].field, "notifications.email.from");
  EXPECT_EQ(r.errors[3].field, "notifications.email.to");
  EXPECT_EQ(r.errors[4].field, "notifications.email.digest-at");
  EXPECT_EQ(r.errors[4].line, 6);
}

TEST(ServerConfig, ExampleFileParses) {
  const std::string path = std::string(ARCA_SOURCE_DIR) + "/examples/arca-server.yaml";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ConfigLoad r = parse_config(text, path);
  for (const auto& e : r.errors) ADD_FAILURE() << e.to_string(path);
  ASSERT_TRUE(r.config);
  const ServerConfig& c = *r.config;
  // The operations document's components, each with its objectives.
  const SourceConfig* pg = c.source("orders-db");
  ASSERT_TRUE(pg);
  EXPECT_EQ(pg->objectives.rpo_s, 300);
  EXPECT_EQ(pg->objectives.rto_s, 900);
  ASSERT_TRUE(c.plan("orders-db.stream"));
  EXPECT_TRUE(c.plan("orders-db.stream")->schedule.continuous);
  ASSERT_TRUE(c.plan("events.stream"));
  const PlanConfig* verify = c.plan("orders-db-verify");
  ASSERT_TRUE(verify);
  EXPECT_EQ(verify->schedule.cron, "0 2 * * 0");
  EXPECT_EQ(verify->schedule.time_zone, "UTC");
  EXPECT_EQ(c.plan("cache-verify")->schedule.cron, "0 2 1 * *");
  // The quarterly drill restores every component, judged by the sources' objectives.
  const PlanConfig* drill = c.plan("quarterly-drill");
  ASSERT_TRUE(drill);
  ASSERT_TRUE(drill->drill);
  EXPECT_EQ(drill->repository, "primary");
  EXPECT_EQ(drill->drill->components.size(), 4u);
  EXPECT_EQ(drill->drill->component("events")->objectives.rpo_s, 900);
  EXPECT_EQ(drill->drill->component("app-config")->objectives.rto_s, 600);
}

TEST(ServerConfig, KeyGivenTwice) {
  ConfigError e = only_error(with_base("server:\n  max-jobs: 2\n  max-jobs: 3\n"));
  EXPECT_EQ(e.line, 7);
  EXPECT_EQ(e.field, "server.max-jobs");
  EXPECT_NE(e.message.find("twice"), std::string::npos);
}

// Files points name their source by host and path set: two sources sharing both could not be told
// apart, and one's retention would remove the other's points.
TEST(ServerConfig, TwoFilesSourcesWithTheSamePathsOnOneHostAreRefused) {
  ConfigLoad r = parse(R"(repositories:
  m: {location: /srv/r, password-env: P}
sources:
  a: {kind: files, repository: m, host: h, paths: [/etc, /srv/app]}
  b: {kind: files, repository: m, host: h, paths: [/srv/app, /etc], tags: [other]}
  c: {kind: files, repository: m, host: other, paths: [/etc, /srv/app]}
)");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 5);
  EXPECT_EQ(r.errors[0].field, "sources.b.paths");
  EXPECT_NE(r.errors[0].message.find("source 'a'"), std::string::npos) << r.errors[0].message;
}
