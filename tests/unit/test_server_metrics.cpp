// Component status (src/server/status.cpp) and /metrics (src/server/metrics.cpp, exposition.h):
// the live RPO from recovery points and from a continuous stream, the objective check, the state
// of each component, and an exposition that a line-by-line parser of the text format (and
// promtool, when installed) accepts: HELP and TYPE for every family, one block per family, no
// duplicate series, cumulative histogram buckets, escaped label values, bounded labels.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "server/exposition.h"
#include "server/metrics.h"
#include "server/status.h"
#include "test_util.h"

using namespace arca;
using namespace arca::server;

namespace {

constexpr double kNow = 1'800'000'000;

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Parses the text format strictly, failing the test on anything the format does not allow.
std::vector<Sample> parse_exposition(const std::string& text) {
  static const std::regex name_re("[a-zA-Z_:][a-zA-Z0-9_:]*");
  static const std::regex label_re("[a-zA-Z_][a-zA-Z0-9_]*");
  std::map<std::string, std::string> help, type;
  std::set<std::string> closed, series;
  std::string current;  // the family whose samples are being read
  std::vector<Sample> out;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    n++;
    SCOPED_TRACE("line " + std::to_string(n) + ": " + line);
    EXPECT_FALSE(line.empty());
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      std::istringstream l(line.substr(7));
      std::string name, rest;
      l >> name;
      std::getline(l, rest);
      EXPECT_TRUE(std::regex_match(name, name_re));
      auto& m = line[2] == 'H' ? help : type;
      EXPECT_EQ(m.count(name), 0u) << "a second " << line.substr(2, 4) << " for " << name;
      m[name] = rest.empty() ? "" : rest.substr(1);
      if (name != current) {
        if (!current.empty()) closed.insert(current);
        EXPECT_EQ(closed.count(name), 0u) << "family " << name << " split in two blocks";
        current = name;
      }
      if (line[2] == 'T') {
        EXPECT_TRUE(m[name] == "counter" || m[name] == "gauge" || m[name] == "histogram") << m[name];
      }
      continue;
    }
    EXPECT_NE(line[0], '#');
    Sample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') i++;
    s.name = line.substr(0, i);
    EXPECT_TRUE(std::regex_match(s.name, name_re)) << s.name;
    if (i < line.size() && line[i] == '{') {
      i++;
      while (i < line.size() && line[i] != '}') {
        size_t eq = line.find('=', i);
        EXPECT_NE(eq, std::string::npos);
        if (eq == std::string::npos) return out;
        std::string key = line.substr(i, eq - i);
        EXPECT_TRUE(std::regex_match(key, label_re)) << key;
        EXPECT_EQ(line[eq + 1], '"');
        std::string value;
        size_t j = eq + 2;
        for (; j < line.size() && line[j] != '"'; j++) {
          if (line[j] == '\\') {
            char c = line[++j];
            EXPECT_TRUE(c == '\\' || c == '"' || c == 'n') << "bad escape \\" << c;
            value += c == 'n' ? '\n' : c;
          } else {
            value += line[j];
          }
        }
        EXPECT_EQ(s.labels.count(key), 0u) << "label " << key << " twice";
        s.labels[key] = value;
        i = j + 1;
        if (i < line.size() && line[i] == ',') i++;
      }
      i++;  // '}'
    }
    EXPECT_EQ(line[i], ' ');
    std::string v = line.substr(i + 1);
    if (v == "+Inf")
      s.value = INFINITY;
    else if (v == "-Inf")
      s.value = -INFINITY;
    else if (v == "NaN")
      s.value = NAN;
    else {
      size_t used = 0;
      s.value = std::stod(v, &used);
      EXPECT_EQ(used, v.size()) << "trailing text after the value (a timestamp is not written)";
    }
    std::string family = s.name;
    for (std::string suffix : {"_bucket", "_sum", "_count"}) {
      std::string base = s.name.size() > suffix.size() ? s.name.substr(0, s.name.size() - suffix.size()) : "";
      if (s.name.ends_with(suffix) && type.count(base) && type[base] == "histogram") family = base;
    }
    EXPECT_TRUE(help.count(family)) << "no HELP for " << family;
    EXPECT_TRUE(type.count(family)) << "no TYPE for " << family;
    EXPECT_EQ(family, current) << "sample outside its family's block";
    EXPECT_EQ(type[family] == "counter", family.ends_with("_total")) << "_total on counters only: " << family;
    std::string key = s.name;
    for (const auto& [k, val] : s.labels) key += "|" + k + "=" + val;
    EXPECT_TRUE(series.insert(key).second) << "duplicate series " << key;
    out.push_back(s);
  }
  return out;
}

// Every histogram's buckets rise with `le`, end with +Inf, and +Inf equals _count.
void expect_histograms_valid(const std::vector<Sample>& samples, const std::string& family) {
  std::map<std::map<std::string, std::string>, std::vector<std::pair<double, double>>> buckets;
  std::map<std::map<std::string, std::string>, double> counts;
  for (const auto& s : samples) {
    auto l = s.labels;
    if (s.name == family + "_bucket") {
      double le = l.at("le") == "+Inf" ? INFINITY : std::stod(l.at("le"));
      l.erase("le");
      buckets[l].push_back({le, s.value});
    } else if (s.name == family + "_count") {
      counts[l] = s.value;
    }
  }
  ASSERT_FALSE(buckets.empty());
  for (const auto& [labels, b] : buckets) {
    for (size_t i = 1; i < b.size(); i++) {
      EXPECT_LT(b[i - 1].first, b[i].first) << "bucket bounds out of order";
      EXPECT_LE(b[i - 1].second, b[i].second) << "buckets not cumulative";
    }
    EXPECT_TRUE(std::isinf(b.back().first));
    ASSERT_TRUE(counts.count(labels));
    EXPECT_EQ(b.back().second, counts[labels]);
  }
}

// The value of the one sample named `name` whose labels include `labels`; nullopt when none.
std::optional<double> value(const std::vector<Sample>& samples, const std::string& name,
                            const std::map<std::string, std::string>& labels = {}) {
  std::optional<double> found;
  for (const auto& s : samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels)
      if (!s.labels.count(k) || s.labels.at(k) != v) match = false;
    if (!match) continue;
    EXPECT_FALSE(found) << "more than one " << name << " sample matches";
    found = s.value;
  }
  return found;
}

SourceConfig source(const std::string& name, SourceKind kind, std::optional<int64_t> rpo = std::nullopt) {
  SourceConfig s;
  s.name = name;
  s.kind = kind;
  s.repository = "main";
  s.objectives.rpo_s = rpo;
  return s;
}

RecoveryPointRecord point(const std::string& id, const std::string& src, const std::string& kind, double time,
                          double data_time = 0) {
  RecoveryPointRecord p;
  p.repository = "main";
  p.snapshot_id = id;
  p.kind = kind;
  p.source = src;
  p.host = "h";
  p.time = time;
  p.data_time = data_time > 0 ? data_time : time;
  p.size = 1000;
  return p;
}

JobRecord job(const std::string& plan, const std::string& src, JobState state, double started, double finished) {
  JobRecord j;
  j.id = 7;
  j.plan = plan;
  j.source = src;
  j.repository = "main";
  j.state = state;
  j.created_at = started > 0 ? started : finished;
  j.started_at = started;
  j.finished_at = finished;
  j.snapshot_id = "5f1c9a0e7b2d4c6f8a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e3f";
  return j;
}

PlanView backup_plan(const std::string& name, const std::string& src, double next_due) {
  PlanView p;
  p.name = name;
  p.kind = JobKind::Backup;
  p.source = src;
  p.repository = "main";
  p.schedule = "every 1h";
  p.next_due = next_due;
  p.expected_interval_s = 3600;
  return p;
}

struct World {
  TempDir dir;
  std::unique_ptr<Catalog> catalog = open_sqlite_catalog(dir.path + "/catalog.db");
  ServerConfig config;
  Runtime runtime;
  std::vector<PlanView> plans;

  World() {
    RepositoryConfig r;
    r.name = "main";
    config.repositories.push_back(r);
  }
  ServerStatus status(double now = kNow) { return build_status(config, *catalog, plans, runtime, kNow - 86400, now); }
  const ComponentStatus& component(const ServerStatus& s, const std::string& name) {
    for (const auto& c : s.components)
      if (c.source == name) return c;
    throw std::runtime_error("no component " + name);
  }
  std::string metrics(const JobMetrics& jm = JobMetrics()) {
    return render_metrics(config, *catalog, plans, runtime, jm, kNow - 86400, kNow - 5, kNow);
  }
};

// A PostgreSQL source with a continuous WAL stream that caught up `caught_up_ago` seconds ago.
void add_pg_with_stream(World& w, int64_t rpo, double caught_up_ago) {
  auto pg = source("db", SourceKind::Postgres, rpo);
  pg.stream.enabled = true;
  pg.stream.stall_after_s = 300;
  w.config.sources.push_back(pg);
  w.runtime.update_stream("db", [&](StreamStatus& s) {
    s.connected = true;
    s.started_at = kNow - 7200;
    s.last_progress_at = kNow - caught_up_ago;
    s.caught_up_at = kNow - caught_up_ago;
  });
}

}  // namespace

TEST(ServerStatus, LiveRpoFromNewestPointAndObjective) {
  World w;
  w.config.sources.push_back(source("etc", SourceKind::Files, 900));
  w.catalog->add_point(point("a1", "etc", "files", kNow - 5000));
  w.catalog->add_point(point("a2", "etc", "files", kNow - 620, kNow - 600));
  auto partial = point("a3", "etc", "files", kNow - 10);
  partial.partial = true;  // not restorable: must not count
  w.catalog->add_point(partial);

  auto c = w.component(w.status(), "etc");
  ASSERT_TRUE(c.newest_point);
  EXPECT_EQ(c.newest_point->snapshot_id, "a2");
  ASSERT_TRUE(c.live_rpo_s);
  EXPECT_DOUBLE_EQ(*c.live_rpo_s, 600);  // from the point's data time, not its time
  EXPECT_TRUE(c.rpo_ok);
  EXPECT_EQ(c.state, "ok");

  // 301 seconds later the same point is over a 900 s objective.
  c = w.component(w.status(kNow + 301), "etc");
  EXPECT_DOUBLE_EQ(*c.live_rpo_s, 901);
  EXPECT_FALSE(c.rpo_ok);
  EXPECT_EQ(c.state, "at-risk");
}

TEST(ServerStatus, LiveRpoFromHealthyStreamOnly) {
  World w;
  add_pg_with_stream(w, 300, 20);
  w.catalog->add_point(point("b1", "db", "postgres", kNow - 3600));  // last night's base backup
  auto c = w.component(w.status(), "db");
  ASSERT_TRUE(c.live_rpo_s);
  EXPECT_DOUBLE_EQ(*c.live_rpo_s, 20);  // the WAL stream caught up 20 s ago
  EXPECT_TRUE(c.rpo_ok);
  EXPECT_FALSE(c.stream_stalled);
  EXPECT_EQ(c.state, "ok");

  // Stalled (no progress nor catch-up for over stall_after_s): only the base backup counts.
  w.runtime.update_stream("db", [](StreamStatus& s) { s.caught_up_at = s.last_progress_at = kNow - 1000; });
  c = w.component(w.status(), "db");
  EXPECT_TRUE(c.stream_stalled);
  EXPECT_DOUBLE_EQ(*c.live_rpo_s, 3600);
  EXPECT_FALSE(c.rpo_ok);
  EXPECT_EQ(c.state, "at-risk");

  // Disconnected: down, not stalled, and the stream no longer counts either.
  w.runtime.update_stream("db", [](StreamStatus& s) {
    s.connected = false;
    s.caught_up_at = s.last_progress_at = kNow - 10;
  });
  c = w.component(w.status(), "db");
  EXPECT_FALSE(c.stream_stalled);
  EXPECT_DOUBLE_EQ(*c.live_rpo_s, 3600);
  EXPECT_EQ(c.state, "at-risk");
}

TEST(ServerStatus, NeverBackedUpAndAStreamWithoutABaseBackup) {
  World w;
  add_pg_with_stream(w, 300, 5);  // WAL alone restores nothing
  w.config.sources.push_back(source("etc", SourceKind::Files));
  auto s = w.status();
  const auto& db = w.component(s, "db");
  EXPECT_EQ(db.state, "never-backed-up");
  EXPECT_FALSE(db.live_rpo_s);
  EXPECT_FALSE(db.rpo_ok);  // an objective and nothing to restore
  const auto& etc = w.component(s, "etc");
  EXPECT_EQ(etc.state, "never-backed-up");
  EXPECT_TRUE(etc.rpo_ok);  // no objective, no alarm
}

TEST(ServerStatus, PlansVerificationsAndRepositories) {
  World w;
  w.config.sources.push_back(source("etc", SourceKind::Files));
  w.catalog->add_point(point("a1", "etc", "files", kNow - 60));
  auto hourly = backup_plan("hourly", "etc", kNow + 900);
  hourly.last_success = job_ref(job("hourly", "etc", JobState::Success, kNow - 3700, kNow - 3650));
  hourly.last_job = hourly.last_finished = job_ref(job("hourly", "etc", JobState::Failed, kNow - 100, kNow - 90));
  hourly.running = 1;
  auto daily = backup_plan("daily", "etc", kNow + 300);
  daily.last_success = job_ref(job("daily", "etc", JobState::Success, kNow - 80000, kNow - 79000));
  daily.last_job = daily.last_finished = daily.last_success;
  daily.pending = 2;
  PlanView verify = backup_plan("verify", "etc", kNow + 10);  // another kind: not a backup's next run
  verify.kind = JobKind::Verify;
  w.plans = {hourly, daily, verify};
  w.catalog->add_verification({1, "etc", "main", "check", kNow - 7000, true, 12, ""});
  w.catalog->add_verification({2, "etc", "main", "check", kNow - 500, false, 3, "pack damaged"});
  w.runtime.update_repository("main", [](RepositoryStatus& r) {
    r.reachable = false;
    r.checked_at = kNow - 30;
    r.error = "connection refused";
  });

  auto s = w.status();
  const auto& c = w.component(s, "etc");
  EXPECT_DOUBLE_EQ(c.next_run, kNow + 300);
  ASSERT_TRUE(c.last_backup && c.last_successful_backup);
  EXPECT_EQ(c.last_backup->state, JobState::Failed);
  EXPECT_DOUBLE_EQ(c.last_successful_backup->finished_at, kNow - 3650);
  EXPECT_EQ(c.state, "at-risk");  // the newest backup failed
  ASSERT_TRUE(c.last_verification && c.last_successful_verification);
  EXPECT_FALSE(c.last_verification->ok);
  EXPECT_DOUBLE_EQ(c.last_successful_verification->time, kNow - 7000);
  EXPECT_EQ(s.running_jobs, 1);
  EXPECT_EQ(s.pending_jobs, 2);
  EXPECT_FALSE(s.repositories.at("main").reachable);

  auto j = to_json(s);
  auto& cj = j["components"][0];
  EXPECT_EQ(cj["state"], "at-risk");
  EXPECT_EQ(cj["live_rpo_s"], 60);
  EXPECT_TRUE(cj["rpo_objective_s"].is_null());
  EXPECT_EQ(cj["newest_point"]["snapshot_id"], "a1");
  EXPECT_EQ(cj["next_run_unix"], kNow + 300);
  EXPECT_TRUE(cj["stream"].is_null());
  EXPECT_EQ(j["repositories"]["main"]["reachable"], false);
  EXPECT_EQ(j["repositories"]["main"]["error"], "connection refused");
}

TEST(ServerMetrics, ExpositionIsValidAndAgreesWithStatus) {
  World w;
  add_pg_with_stream(w, 300, 20);
  w.config.sources.push_back(source("cache", SourceKind::Redis, 7200));
  w.catalog->add_point(point("b1", "db", "postgres", kNow - 3600));
  w.catalog->add_point(point("r1", "cache", "redis", kNow - 1800));
  w.catalog->add_verification({1, "db", "main", "pg-verify", kNow - 9000, true, 40, ""});
  w.catalog->add_verification({2, "db", "main", "pg-verify", kNow - 100, false, 41, "count mismatch"});
  auto plan = backup_plan("pg-base", "db", kNow + 600);
  plan.last_success = job_ref(job("pg-base", "db", JobState::Success, kNow - 4000, kNow - 3600));
  plan.last_job = plan.last_finished = job_ref(job("pg-base", "db", JobState::Partial, kNow - 200, kNow - 50));
  plan.skipped_overlap = 3;
  w.plans = {plan, backup_plan("redis-hourly", "cache", kNow + 60)};
  w.runtime.update_repository("main", [](RepositoryStatus& r) {
    r.checked_at = kNow - 10;
    r.stored_bytes = 123456789;
  });
  JobMetrics jm;
  jm.record(job("pg-base", "db", JobState::Success, kNow - 4000, kNow - 3600));
  jm.record(job("pg-base", "db", JobState::Partial, kNow - 200, kNow - 50));
  jm.record(job("redis-hourly", "cache", JobState::Skipped, 0, kNow - 30));

  std::string text = w.metrics(jm);
  auto samples = parse_exposition(text);
  expect_histograms_valid(samples, "arca_job_duration_seconds");

  auto st = w.status();
  EXPECT_EQ(value(samples, "arca_source_live_rpo_seconds", {{"source", "db"}, {"kind", "postgres"}}),
            *w.component(st, "db").live_rpo_s);
  EXPECT_EQ(value(samples, "arca_source_live_rpo_seconds", {{"source", "cache"}}), 1800);
  EXPECT_EQ(value(samples, "arca_source_rpo_objective_seconds", {{"source", "db"}}), 300);
  EXPECT_EQ(value(samples, "arca_source_newest_point_timestamp_seconds", {{"source", "cache"}, {"repository", "main"}}),
            kNow - 1800);
  EXPECT_EQ(value(samples, "arca_source_last_verification_success_timestamp_seconds",
                  {{"source", "db"}, {"verification", "pg-verify"}}),
            kNow - 9000);
  EXPECT_EQ(value(samples, "arca_source_last_verification_ok", {{"source", "db"}}), 0);
  EXPECT_EQ(value(samples, "arca_plan_last_success_timestamp_seconds", {{"plan", "pg-base"}, {"kind", "backup"}}),
            kNow - 3600);
  EXPECT_FALSE(value(samples, "arca_plan_last_success_timestamp_seconds", {{"plan", "redis-hourly"}}));  // never
  EXPECT_EQ(value(samples, "arca_plan_last_run_outcome", {{"plan", "pg-base"}, {"outcome", "partial"}}), 1);
  EXPECT_EQ(value(samples, "arca_plan_last_run_outcome", {{"plan", "pg-base"}, {"outcome", "success"}}), 0);
  EXPECT_EQ(value(samples, "arca_plan_last_run_duration_seconds", {{"plan", "pg-base"}}), 150);
  EXPECT_EQ(value(samples, "arca_plan_skipped_overlap_total", {{"plan", "pg-base"}}), 3);
  EXPECT_EQ(value(samples, "arca_plan_expected_interval_seconds", {{"plan", "pg-base"}}), 3600);
  EXPECT_EQ(value(samples, "arca_stream_up", {{"source", "db"}}), 1);
  EXPECT_EQ(value(samples, "arca_stream_stalled", {{"source", "db"}}), 0);
  EXPECT_FALSE(value(samples, "arca_stream_up", {{"source", "cache"}}));  // no stream configured
  EXPECT_EQ(value(samples, "arca_repository_up", {{"repository", "main"}}), 1);
  EXPECT_EQ(value(samples, "arca_repository_stored_bytes", {{"repository", "main"}}), 123456789);
  EXPECT_EQ(value(samples, "arca_scheduler_last_tick_timestamp_seconds"), kNow - 5);
  EXPECT_EQ(value(samples, "arca_build_info", {{"version", ARCA_VERSION}}), 1);
  EXPECT_EQ(value(samples, "arca_job_runs_total", {{"plan", "redis-hourly"}, {"outcome", "skipped"}}), 1);
  // A job that never started has no duration.
  EXPECT_FALSE(value(samples, "arca_job_duration_seconds_count", {{"plan", "redis-hourly"}}));
  EXPECT_EQ(value(samples, "arca_job_duration_seconds_count", {{"plan", "pg-base"}}), 2);

  // Bounded labels only: never a snapshot id or a job id.
  std::set<std::string> allowed{"plan", "kind", "source", "repository", "outcome", "verification", "le", "version"};
  for (const auto& s : samples)
    for (const auto& [k, v] : s.labels) EXPECT_TRUE(allowed.count(k)) << s.name << " has label " << k;
  EXPECT_EQ(text.find(plan.last_job->snapshot_id), std::string::npos);
}

TEST(ServerMetrics, JobRunsAndDurationHistogram) {
  JobMetrics jm;
  jm.record(job("p", "s", JobState::Success, 100, 100.5));  // 0.5 s
  jm.record(job("p", "s", JobState::Success, 100, 110));    // 10 s
  jm.record(job("p", "s", JobState::Failed, 100, 5100));    // 5000 s
  jm.record(job("p", "s", JobState::Success, 100, 20100));  // 20000 s: past the last bound
  jm.record(job("p", "s", JobState::Running, 100, 0));      // not final: ignored
  auto added = job("p", "s", JobState::Success, 0, 0);
  added.state = JobState::Canceled;
  added.bytes_added = 4096;
  jm.record(added);

  auto samples = parse_exposition(jm.render());
  expect_histograms_valid(samples, "arca_job_duration_seconds");
  std::map<std::string, std::string> pk{{"plan", "p"}, {"kind", "backup"}};
  auto bucket = [&](const std::string& le) {
    auto l = pk;
    l["le"] = le;
    return value(samples, "arca_job_duration_seconds_bucket", l);
  };
  EXPECT_EQ(bucket("1"), 1);
  EXPECT_EQ(bucket("5"), 1);
  EXPECT_EQ(bucket("15"), 2);
  EXPECT_EQ(bucket("3600"), 2);
  EXPECT_EQ(bucket("7200"), 3);
  EXPECT_EQ(bucket("14400"), 3);
  EXPECT_EQ(bucket("+Inf"), 4);
  EXPECT_EQ(value(samples, "arca_job_duration_seconds_sum", pk), 0.5 + 10 + 5000 + 20000);
  EXPECT_EQ(value(samples, "arca_job_runs_total", {{"plan", "p"}, {"outcome", "success"}}), 3);
  EXPECT_EQ(value(samples, "arca_job_runs_total", {{"plan", "p"}, {"outcome", "failed"}}), 1);
  EXPECT_EQ(value(samples, "arca_job_runs_total", {{"plan", "p"}, {"outcome", "canceled"}}), 1);
  EXPECT_FALSE(value(samples, "arca_job_runs_total", {{"plan", "p"}, {"outcome", "running"}}));
  EXPECT_EQ(value(samples, "arca_job_added_bytes_total", {{"repository", "main"}}), 4096);
}

TEST(ServerMetrics, LabelValuesAndHelpAreEscaped) {
  EXPECT_EQ(Exposition::escape_label("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(Exposition::escape_help("x\\y\nz \"q\""), "x\\\\y\\nz \"q\"");  // quotes stay in HELP
  EXPECT_EQ(Exposition::number(1800000000), "1800000000");
  EXPECT_EQ(Exposition::number(0.25), "0.25");
  EXPECT_EQ(Exposition::number(INFINITY), "+Inf");

  // A plan whose name holds every character that needs escaping reads back unchanged.
  World w;
  std::string odd = "we\"ird\\plan\nname";
  w.plans = {backup_plan(odd, "etc", kNow + 1)};
  auto samples = parse_exposition(w.metrics());
  EXPECT_EQ(value(samples, "arca_plan_paused", {{"plan", odd}}), 0);
  EXPECT_EQ(value(samples, "arca_plan_next_run_timestamp_seconds", {{"plan", odd}}), kNow + 1);

  Exposition e;
  e.family("x_total", "counter", "h");
  e.sample("x_total", {{"a", "1"}}, 1);
  EXPECT_EQ(arca::testing::kind_of([&] { e.sample("x_total", {{"a", "1"}}, 2); }), ErrorKind::Generic);  // duplicate
}

// A drill component that passed once and then missed its RPO objective: the newest run's RTO,
// RPO and verdicts, the last success kept; per source, the newest successful drill (0: never).
TEST(ServerMetrics, DrillResultsPerComponentAndSource) {
  World w;
  w.config.sources.push_back(source("db", SourceKind::Postgres, 300));
  w.config.sources.push_back(source("etc", SourceKind::Files, 0));
  auto rec = [](const std::string& id, double time, double rpo, bool ok) {
    DrillResultRecord d;
    d.drill_id = id;
    d.component = "orders";
    d.drill = "nightly";
    d.kind = "postgres";
    d.source = "db";
    d.time = time;
    d.rto_s = 42;
    d.rpo_s = rpo;
    d.rto_objective_s = 900;
    d.rpo_objective_s = 300;
    d.rto_ok = true;
    d.rpo_ok = ok;
    d.validated = true;
    d.passed = ok;
    return d;
  };
  w.catalog->add_drill_results({rec("a", kNow - 86400, 2, true)});
  w.catalog->add_drill_results({rec("b", kNow - 600, 400, false)});
  // An ad-hoc drill found in the repository, not one of the server's plans: it failed, and later
  // a smoke drill of it passed; neither may raise or clear an alert of the plans.
  DrillResultRecord smoke = rec("c", kNow - 60, 1, false);
  smoke.drill = "smoke";
  smoke.validated = false;
  DrillResultRecord smoke_ok = rec("d", kNow - 30, 1, true);
  smoke_ok.drill = "smoke";
  smoke_ok.component = "other";
  w.catalog->add_drill_results({smoke, smoke_ok});
  PlanConfig plan;
  plan.name = "nightly-drill";
  plan.kind = JobKind::Drill;
  auto spec = std::make_shared<drill::DrillSpec>();
  spec->name = "nightly";
  plan.drill = spec;
  w.config.plans.push_back(plan);
  auto samples = parse_exposition(w.metrics());
  EXPECT_FALSE(value(samples, "arca_drill_validated", {{"drill", "smoke"}})) << "not a drill of the server's plans";
  std::map<std::string, std::string> l{{"drill", "nightly"}, {"component", "orders"}, {"source", "db"}};
  EXPECT_EQ(value(samples, "arca_drill_last_run_timestamp_seconds", l), kNow - 600);
  EXPECT_EQ(value(samples, "arca_drill_rto_seconds", l), 42);
  EXPECT_EQ(value(samples, "arca_drill_rpo_seconds", l), 400);
  EXPECT_EQ(value(samples, "arca_drill_validated", l), 1);
  auto with = [&](const char* objective) {
    auto m = l;
    m["objective"] = objective;
    return m;
  };
  EXPECT_EQ(value(samples, "arca_drill_objective_met", with("rto")), 1);
  EXPECT_EQ(value(samples, "arca_drill_objective_met", with("rpo")), 0);
  EXPECT_EQ(value(samples, "arca_drill_last_success_timestamp_seconds", l), kNow - 86400);
  EXPECT_EQ(value(samples, "arca_source_last_drill_success_timestamp_seconds", {{"source", "db"}}), kNow - 86400)
      << "the plans' drills only: the smoke drill's newer success does not count";
  EXPECT_EQ(value(samples, "arca_source_last_drill_success_timestamp_seconds", {{"source", "etc"}}), 0)
      << "never drilled: 0, so that the 92-day alert fires";
  // The status page shows the same.
  auto st = w.status();
  const auto& db = w.component(st, "db");
  ASSERT_TRUE(db.last_drill);
  EXPECT_EQ(db.last_drill->drill_id, "d") << "the status shows the newest drill of the source, whichever it is";
  ASSERT_TRUE(db.last_passed_drill);
  EXPECT_EQ(db.last_passed_drill->drill_id, "d");
  EXPECT_FALSE(w.component(st, "etc").last_drill);
}

// promtool's own parser and linter (Debian package `prometheus`, installed by scripts/setup.sh).
TEST(ServerMetrics, PromtoolAcceptsTheExposition) {
  World w;
  add_pg_with_stream(w, 300, 20);
  w.catalog->add_point(point("b1", "db", "postgres", kNow - 3600));
  DrillResultRecord drill;
  drill.drill_id = "a";
  drill.component = "orders";
  drill.drill = "nightly";
  drill.kind = "postgres";
  drill.source = "db";
  drill.time = kNow - 600;
  drill.rto_s = 42;
  drill.rpo_s = 2;
  drill.rpo_objective_s = 300;
  drill.rpo_ok = drill.validated = drill.passed = true;
  w.catalog->add_drill_results({drill});
  auto plan = backup_plan("pg-base", "db", kNow + 600);
  plan.last_job = plan.last_finished = plan.last_success =
      job_ref(job("pg-base", "db", JobState::Success, kNow - 4000, kNow - 3600));
  w.plans = {plan};
  JobMetrics jm;
  jm.record(*plan.last_job);
  TempDir d;
  std::string file = d.path + "/metrics.txt", log = d.path + "/promtool.log";
  std::ofstream(file) << w.metrics(jm);
  int rc = std::system(("promtool check metrics < " + file + " > " + log + " 2>&1").c_str());
  std::ifstream in(log);
  std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "");
}

// Every alert of the rules file has a severity, a runbook section in docs/runbooks.md, and a
// promtool test that fires it (tests/prometheus/arca-rules.test.yml).
TEST(ServerMetrics, EveryAlertHasASeverityARunbookAndAPromtoolTest) {
  auto read = [](const std::string& rel) {
    std::ifstream in(std::string(ARCA_SOURCE_DIR) + "/" + rel);
    EXPECT_TRUE(in) << rel;
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  std::string rules = read("deploy/prometheus/arca-rules.yml");
  std::string runbooks = read("docs/runbooks.md");
  std::string tests = read("tests/prometheus/arca-rules.test.yml");

  std::set<std::string> anchors;  // GitHub's anchors: lower case, spaces to dashes
  static const std::regex heading("(^|\n)## ([^\n]+)");
  for (auto it = std::sregex_iterator(runbooks.begin(), runbooks.end(), heading); it != std::sregex_iterator(); ++it) {
    std::string a;
    for (char c : (*it)[2].str())
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '-')
        a += static_cast<char>(std::tolower(c));
      else if (c == ' ')
        a += '-';
    anchors.insert(a);
  }

  // Each rule: from "- alert: NAME" to the next one.
  static const std::regex alert("- alert: (\\w+)([\\s\\S]*?)(?=- alert:|\\n  - name:|$)");
  int n = 0;
  for (auto it = std::sregex_iterator(rules.begin(), rules.end(), alert); it != std::sregex_iterator(); ++it, ++n) {
    std::string name = (*it)[1], body = (*it)[2];
    SCOPED_TRACE(name);
    std::smatch m;
    EXPECT_TRUE(std::regex_search(body, std::regex("severity: P[012]\\n")));
    ASSERT_TRUE(std::regex_search(body, m, std::regex("runbook_url: \"docs/runbooks.md#([a-z0-9-]+)\"")));
    EXPECT_TRUE(anchors.count(m[1])) << "no section for #" << m[1];
    EXPECT_NE(tests.find("alertname: " + name + "\n        exp_alerts:\n          - exp_labels"), std::string::npos)
        << "no promtool test fires it";
  }
  EXPECT_GE(n, 17);
}
