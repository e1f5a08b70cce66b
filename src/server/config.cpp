// The configuration's schema (docs/server.md, "Configuration"): each section read into its
// struct, then the references between them, then the plans that sources with a continuous stream
// imply. Single values are checked by config/values.h; the YAML walking is config/reader.h.
#include "server/config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "repo/snapshot_filter.h"
#include "config/reader.h"
#include "config/values.h"
#include "server/config_drill.h"
#include "server/schedule.h"
#include "util/error.h"

namespace arca::server {

namespace {

namespace cv = config::values;
using config::ConfigReader;
using config::ValueAt;
using Keys = ConfigReader::Keys;

const Keys kTopKeys{"server", "repositories", "sources", "plans", "notifications"};
const Keys kServerKeys{"listen", "tls", "catalog", "log-format", "max-jobs", "shutdown-grace", "lease"};
const Keys kTlsKeys{"certificate", "key"};
const Keys kRepositoryKeys{"location", "options", "password-file", "password-env", "key-file", "max-jobs", "replicas"};
const Keys kReplicaKeys{"location", "options", "streams", "interval", "limit-upload"};
const Keys kSourceKeys{
    "kind",     "repository",      "host",     "tags",          "objectives",   "max-jobs",   "paths",
    "excludes", "one-file-system", "conninfo", "password-file", "password-env", "wal-stream", "url",
    "brokers",  "topics",          "groups",   "continuous"};
const Keys kObjectiveKeys{"rpo", "rto"};
const Keys kWalStreamKeys{"enabled", "slot", "backoff-min", "backoff-max", "stall-after"};
const Keys kContinuousKeys{"enabled", "interval", "backoff-min", "backoff-max", "stall-after", "retention"};
const Keys kPlanKeys{"kind",        "source",    "repository", "schedule",      "start-window", "completion-window",
                     "overlap",     "catch-up",  "paused",     "run-on-create", "retention",    "read-data-subset",
                     "prune-grace", "max-unused", "drill"};
const Keys kScheduleKeys{"cron", "time-zone", "every", "offset"};
const Keys kRetentionKeys{"keep-last",         "keep-hourly",        "keep-daily",          "keep-weekly",
                          "keep-monthly",      "keep-yearly",        "keep-within",         "keep-within-hourly",
                          "keep-within-daily", "keep-within-weekly", "keep-within-monthly", "keep-within-yearly",
                          "keep-tag"};
const Keys kNotificationKeys{"webhooks", "email"};
const Keys kWebhookKeys{"url", "secret-file", "secret-env", "events"};
const Keys kEmailKeys{"smtp-host",    "smtp-port", "starttls", "username", "password-file",
                      "password-env", "from",      "to",       "events",   "digest-at"};

// Which source kinds a kind-specific field belongs to (the common fields are not listed).
struct KindField {
  const char* key;
  std::vector<SourceKind> kinds;
};
const std::vector<KindField> kSourceKindFields{
    {"paths", {SourceKind::Files}},
    {"excludes", {SourceKind::Files}},
    {"one-file-system", {SourceKind::Files}},
    {"conninfo", {SourceKind::Postgres}},
    {"wal-stream", {SourceKind::Postgres}},
    {"password-file", {SourceKind::Postgres, SourceKind::Redis}},
    {"password-env", {SourceKind::Postgres, SourceKind::Redis}},
    {"url", {SourceKind::Redis}},
    {"brokers", {SourceKind::Kafka}},
    {"topics", {SourceKind::Kafka}},
    {"groups", {SourceKind::Kafka}},
    {"continuous", {SourceKind::Kafka}},
};

struct PlanKindField {
  const char* key;
  std::vector<JobKind> kinds;
};
const std::vector<PlanKindField> kPlanKindFields{
    {"source", {JobKind::Backup, JobKind::Verify}},
    {"repository", {JobKind::Check, JobKind::Prune, JobKind::Drill}},
    {"drill", {JobKind::Drill}},
    {"retention", {JobKind::Backup}},
    {"read-data-subset", {JobKind::Check, JobKind::Verify}},
    {"prune-grace", {JobKind::Prune}},
    {"max-unused", {JobKind::Prune}},
};

template <typename K>
std::string kinds_text(const std::vector<K>& kinds) {
  std::string s;
  for (size_t i = 0; i < kinds.size(); i++)
    s += (i == 0 ? "" : i + 1 == kinds.size() ? " and " : ", ") + std::string(to_string(kinds[i]));
  return s;
}

YAML::Node key_node(const YAML::Node& m, const std::string& key) {
  for (auto it = m.begin(); it != m.end(); ++it)
    if (it->first.Scalar() == key) return it->first;
  return m;
}

std::string this_host() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

class Parser {
 public:
  Parser(std::vector<ConfigError>& errors, const std::string& base_dir) : errors_(errors), r_(errors) {
    r_.set_base_dir(base_dir);
  }

  void parse(const YAML::Node& root, ServerConfig& c) {
    if (root.IsNull() || !root.IsDefined()) return;  // an empty file: the defaults, nothing to run
    if (!r_.map(root, "", kTopKeys)) return;
    if (root["server"].IsDefined()) server(root["server"], c.server);
    if (root["repositories"].IsDefined())
      for (auto& e : r_.named_map(root["repositories"], "repositories")) c.repositories.push_back(repository(e));
    if (root["sources"].IsDefined())
      for (auto& e : r_.named_map(root["sources"], "sources")) c.sources.push_back(source(e, c));
    if (root["plans"].IsDefined())
      for (auto& e : r_.named_map(root["plans"], "plans")) c.plans.push_back(plan(e, c));
    stream_plans(c);
    replica_plans(c);
    if (root["notifications"].IsDefined()) notifications(root["notifications"], c);
  }

  const ConfigReader& reader() const { return r_; }

 private:
  void server(const YAML::Node& n, ServerSettings& s) {
    const std::string p = "server";
    if (!r_.map(n, p, kServerKeys)) return;
    r_.checked(n, "listen", p, s.listen, [](const std::string& v) { return cv::check_listen(v); });
    if (n["tls"].IsDefined() && r_.map(n["tls"], p + ".tls", kTlsKeys)) {
      const YAML::Node& t = n["tls"];
      bool cert = r_.text(t, "certificate", p + ".tls", s.tls_certificate);
      bool key = r_.text(t, "key", p + ".tls", s.tls_key);
      if (cert != key)
        r_.error(t, p + ".tls",
                 std::string("give both certificate and key (or neither, for plain HTTP); ") +
                     (cert ? "key" : "certificate") + " is missing");
      if (cert) file(t, "certificate", p + ".tls", s.tls_certificate);
      if (key) file(t, "key", p + ".tls", s.tls_key, true);
    }
    if (r_.text(n, "catalog", p, s.catalog)) {
      if (s.catalog.empty()) r_.error(n["catalog"], p + ".catalog", "is empty: name the catalog's file");
      s.catalog = r_.resolve(s.catalog);
    }
    r_.checked(n, "log-format", p, s.log_format, [](const std::string& v) -> std::optional<std::string> {
      if (v == "text" || v == "json") return std::nullopt;
      return "'" + v + "' is not a log format: text or json";
    });
    r_.integer(n, "max-jobs", p, s.max_jobs, 1, 10000);
    r_.duration(n, "shutdown-grace", p, s.shutdown_grace_s);
    if (r_.duration(n, "lease", p, s.lease_s) && s.lease_s < 3)
      r_.error(n["lease"], p + ".lease", "must be at least 3s (the lease is renewed every lease / 3)");
  }

  // A file the configuration names: relative to the configuration's folder; load_config checks
  // that it exists, and that it is private when it holds a `secret`.
  void file(const YAML::Node& m, const std::string& key, const std::string& path, std::string& value,
            bool secret = false) {
    const std::string field = ConfigReader::join(path, key);
    if (value.empty()) {
      r_.error(m[key], field, "is empty: name a file");
      return;
    }
    value = r_.resolve(value);
    r_.file_named(m[key], field, value, secret);
  }

  RepositoryConfig repository(const ConfigReader::Entry& e) {
    RepositoryConfig rc;
    rc.name = e.name;
    rc.line = ConfigReader::line_of(e.key);
    const std::string p = "repositories." + e.name;
    const YAML::Node& n = e.value;
    if (!r_.map(n, p, kRepositoryKeys)) return rc;
    if (r_.require(n, "location", p, "a directory or s3:https://host/bucket/prefix") &&
        r_.text(n, "location", p, rc.location)) {
      if (rc.location.empty()) r_.error(n["location"], p + ".location", "is empty: give a directory or an s3: URL");
      if (cv::url_has_password(rc.location)) r_.inline_secret(n["location"], p + ".location");
      bool local = rc.location.rfind("s3:", 0) != 0 && rc.location.find("://") == std::string::npos;
      if (local) rc.location = r_.resolve(rc.location);
    }
    if (n["options"].IsDefined()) options(n["options"], p + ".options", rc.options);
    r_.secret(n, "password", p, rc.password);
    if (r_.text(n, "key-file", p, rc.key_file)) {
      file(n, "key-file", p, rc.key_file, true);
      if (!rc.password.empty())
        r_.error(key_node(n, "key-file"), p + ".key-file",
                 "give one of password-file, password-env or key-file, not several");
    }
    if (rc.password.empty() && rc.key_file.empty() && !n["password-file"].IsDefined() &&
        !n["password-env"].IsDefined() && !n["key-file"].IsDefined())
      r_.error(n, p, "needs the repository's password-file, password-env or key-file");
    r_.integer(n, "max-jobs", p, rc.max_jobs, 0, 10000);
    if (n["replicas"].IsDefined())
      for (auto& r : r_.named_map(n["replicas"], p + ".replicas")) rc.replicas.push_back(replica(r, p, rc));
    return rc;
  }

  ReplicaConfig replica(const ConfigReader::Entry& e, const std::string& repo_path, const RepositoryConfig& rc) {
    ReplicaConfig x;
    x.name = e.name;
    x.line = ConfigReader::line_of(e.key);
    const std::string p = repo_path + ".replicas." + e.name;
    const YAML::Node& n = e.value;
    if (!r_.map(n, p, kReplicaKeys)) return x;
    if (r_.require(n, "location", p, "the replica made by 'arca init --like'") && r_.text(n, "location", p, x.location)) {
      if (x.location.empty()) r_.error(n["location"], p + ".location", "is empty: give a directory or an s3: URL");
      if (cv::url_has_password(x.location)) r_.inline_secret(n["location"], p + ".location");
      bool local = x.location.rfind("s3:", 0) != 0 && x.location.find("://") == std::string::npos;
      if (local) x.location = r_.resolve(x.location);
      if (!x.location.empty() && x.location == rc.location)
        r_.error(n["location"], p + ".location", "is the repository itself: a replica must be another location");
      for (const auto& other : rc.replicas)
        if (!x.location.empty() && other.location == x.location)
          r_.error(n["location"], p + ".location", "is also replica '" + other.name + "': two replicas at one location would be one");
    }
    if (n["options"].IsDefined()) options(n["options"], p + ".options", x.options);
    r_.integer(n, "streams", p, x.streams, 1, 64);
    if (r_.duration(n, "interval", p, x.interval_s) && x.interval_s < 1)
      r_.error(n["interval"], p + ".interval", "must be at least 1s");
    int limit = 0;
    if (r_.integer(n, "limit-upload", p, limit, 1, 100 * 1024 * 1024)) x.limit_upload_kib = limit;
    return x;
  }

  void options(const YAML::Node& n, const std::string& p, std::map<std::string, std::string>& out) {
    if (!n.IsMap()) {
      r_.error(n, p, "must be a mapping of backend options (KEY: VALUE, as with -o KEY=VALUE)");
      return;
    }
    for (auto it = n.begin(); it != n.end(); ++it) {
      const std::string key = it->first.Scalar(), field = p + "." + key;
      if (!it->second.IsScalar()) {
        r_.error(it->second, field, "must be a single value");
        continue;
      }
      if (out.count(key)) {
        r_.error(it->first, field, "given twice; keep one");
        continue;
      }
      out[key] = it->second.Scalar();
      if (cv::option_is_secret(key) || cv::url_has_password(out[key])) r_.inline_secret(it->second, field);
    }
  }

  SourceConfig source(const ConfigReader::Entry& e, const ServerConfig& c) {
    SourceConfig s;
    s.name = e.name;
    s.line = ConfigReader::line_of(e.key);
    const std::string p = "sources." + e.name;
    const YAML::Node& n = e.value;
    if (!r_.map(n, p, kSourceKeys)) return s;
    std::optional<SourceKind> kind;
    std::string kind_text;
    if (r_.require(n, "kind", p, "files, postgres, redis or kafka") && r_.text(n, "kind", p, kind_text)) {
      kind = parse_source_kind(kind_text);
      if (!kind)
        r_.error(n["kind"], p + ".kind", "'" + kind_text + "' is not a source kind: files, postgres, redis or kafka");
    }
    if (kind) s.kind = *kind;
    if (r_.require(n, "repository", p, "the name of a repository under 'repositories'") &&
        r_.text(n, "repository", p, s.repository))
      reference_repository(n["repository"], p + ".repository", s.repository, c);
    if (!r_.text(n, "host", p, s.host) || s.host.empty()) s.host = this_host();
    r_.list(n, "tags", p, s.tags);
    if (n["objectives"].IsDefined() && r_.map(n["objectives"], p + ".objectives", kObjectiveKeys)) {
      int64_t v = 0;
      if (r_.duration(n["objectives"], "rpo", p + ".objectives", v)) s.objectives.rpo_s = v;
      if (r_.duration(n["objectives"], "rto", p + ".objectives", v)) s.objectives.rto_s = v;
    }
    r_.integer(n, "max-jobs", p, s.max_jobs, 1, 10000);
    if (!kind) return s;
    for (const auto& f : kSourceKindFields)
      if (n[f.key].IsDefined() && std::find(f.kinds.begin(), f.kinds.end(), *kind) == f.kinds.end())
        r_.error(key_node(n, f.key), p + "." + f.key,
                 "applies to " + kinds_text(f.kinds) + " sources only; this one is " + kind_text);
    switch (*kind) {
      case SourceKind::Files:
        files_source(n, p, s);
        break;
      case SourceKind::Postgres:
        postgres_source(n, p, s);
        break;
      case SourceKind::Redis:
        redis_source(n, p, s);
        break;
      case SourceKind::Kafka:
        kafka_source(n, p, s);
        break;
    }
    return s;
  }

  void files_source(const YAML::Node& n, const std::string& p, SourceConfig& s) {
    if (r_.require(n, "paths", p, "the files and folders to back up") && r_.list(n, "paths", p, s.paths)) {
      if (s.paths.empty()) r_.error(n["paths"], p + ".paths", "is empty: list the files and folders to back up");
      for (size_t i = 0; i < s.paths.size(); i++)
        if (s.paths[i].empty() || s.paths[i][0] != '/')
          r_.error(n["paths"][i], p + ".paths[" + std::to_string(i) + "]",
                   "'" + s.paths[i] + "' is not an absolute path (the server's working folder is not yours)");
    }
    r_.list(n, "excludes", p, s.excludes);
    r_.boolean(n, "one-file-system", p, s.one_file_system);
  }

  void postgres_source(const YAML::Node& n, const std::string& p, SourceConfig& s) {
    if (r_.text(n, "conninfo", p, s.conninfo) && cv::conninfo_has_password(s.conninfo))
      r_.inline_secret(n["conninfo"], p + ".conninfo");
    r_.secret(n, "password", p, s.pg_password);
    if (n["wal-stream"].IsDefined()) stream(n["wal-stream"], p + ".wal-stream", kWalStreamKeys, s.stream);
  }

  void redis_source(const YAML::Node& n, const std::string& p, SourceConfig& s) {
    if (r_.require(n, "url", p, "redis://host:port") && r_.text(n, "url", p, s.url)) {
      if (s.url.rfind("redis://", 0) != 0 && s.url.rfind("rediss://", 0) != 0)
        r_.error(n["url"], p + ".url", "'" + s.url + "' is not a redis:// or rediss:// URL");
      if (cv::url_has_password(s.url)) r_.inline_secret(n["url"], p + ".url");
    }
    r_.secret(n, "password", p, s.redis_password);
  }

  void kafka_source(const YAML::Node& n, const std::string& p, SourceConfig& s) {
    if (r_.require(n, "brokers", p, "the cluster's host:port list") && r_.list(n, "brokers", p, s.brokers)) {
      if (s.brokers.empty()) r_.error(n["brokers"], p + ".brokers", "is empty: list at least one host:port");
      for (size_t i = 0; i < s.brokers.size(); i++)
        if (auto bad = cv::check_host_port(s.brokers[i]))
          r_.error(n["brokers"][i], p + ".brokers[" + std::to_string(i) + "]", *bad);
    }
    r_.checked(n, "topics", p, s.topics, [](const std::string& v) { return cv::check_regex(v); });
    r_.list(n, "groups", p, s.groups);
    if (const YAML::Node& cont = n["continuous"]; cont.IsDefined()) {
      stream(cont, p + ".continuous", kContinuousKeys, s.stream);
      // The archive's recovery points have no backup plan: their stream plan applies the policy.
      if (cont.IsMap() && cont["retention"].IsDefined())
        if (auto keep = retention(cont["retention"], p + ".continuous.retention")) stream_retention_[s.name] = *keep;
    }
  }

  void stream(const YAML::Node& n, const std::string& p, const Keys& keys, StreamConfig& st) {
    if (!r_.map(n, p, keys)) return;
    r_.boolean(n, "enabled", p, st.enabled);
    r_.text(n, "slot", p, st.slot);
    int64_t interval = 0;
    if (r_.duration(n, "interval", p, interval)) {
      if (interval <= 0) r_.error(n["interval"], p + ".interval", "must be above 0");
      st.interval_s = static_cast<double>(interval);
    }
    r_.duration(n, "backoff-min", p, st.backoff_min_s);
    r_.duration(n, "backoff-max", p, st.backoff_max_s);
    if (st.backoff_min_s > st.backoff_max_s)
      r_.error(n, p + ".backoff-max", "is shorter than backoff-min (" + std::to_string(st.backoff_min_s) + "s)");
    if (r_.duration(n, "stall-after", p, st.stall_after_s) && st.stall_after_s <= 0)
      r_.error(n["stall-after"], p + ".stall-after", "must be above 0");
  }

  void reference_repository(const YAML::Node& at, const std::string& field, const std::string& name,
                            const ServerConfig& c) {
    if (c.repository(name)) return;
    r_.error(at, field, "no repository named '" + name + "' under 'repositories'" + did_you_mean(name, c.repositories));
  }

  template <typename T>
  static std::string did_you_mean(const std::string& name, const std::vector<T>& defined) {
    std::vector<std::string_view> names;
    for (const auto& d : defined) names.push_back(d.name);
    auto near = cv::nearest(name, names);
    return near.empty() ? "" : "; did you mean '" + near + "'?";
  }

  PlanConfig plan(const ConfigReader::Entry& e, const ServerConfig& c) {
    PlanConfig pc;
    pc.name = e.name;
    pc.line = ConfigReader::line_of(e.key);
    const std::string p = "plans." + e.name;
    const YAML::Node& n = e.value;
    if (!r_.map(n, p, kPlanKeys)) return pc;
    std::string kind_text = "backup";
    bool kind_ok = true;
    if (r_.text(n, "kind", p, kind_text)) {
      auto k = parse_job_kind(kind_text);
      if (!k || *k == JobKind::Stream) {
        r_.error(n["kind"], p + ".kind",
                 k ? "stream plans are made from a source's wal-stream or continuous setting, not written as plans"
                   : "'" + kind_text + "' is not a plan kind: backup, verify, check, prune or drill");
        kind_ok = false;
      } else {
        pc.kind = *k;
      }
    }
    if (kind_ok)
      for (const auto& f : kPlanKindFields)
        if (n[f.key].IsDefined() && std::find(f.kinds.begin(), f.kinds.end(), pc.kind) == f.kinds.end())
          r_.error(key_node(n, f.key), p + "." + f.key,
                   "applies to " + kinds_text(f.kinds) + " plans only; this one is " + kind_text +
                       (std::string(f.key) == "repository" ? " (it uses its source's repository)" : ""));
    const SourceConfig* src = nullptr;
    bool needs_source = pc.kind == JobKind::Backup || pc.kind == JobKind::Verify;
    if (kind_ok && needs_source && r_.require(n, "source", p, "a " + kind_text + " plan names its source") &&
        r_.text(n, "source", p, pc.source)) {
      src = c.source(pc.source);
      if (!src)
        r_.error(n["source"], p + ".source",
                 "no source named '" + pc.source + "' under 'sources'" + did_you_mean(pc.source, c.sources));
    }
    if (kind_ok && pc.kind == JobKind::Drill)
      read_drill_plan(r_, n, p, pc, c);
    else if (kind_ok && !needs_source &&
             r_.require(n, "repository", p, "a " + kind_text + " plan names its repository") &&
             r_.text(n, "repository", p, pc.repository))
      reference_repository(n["repository"], p + ".repository", pc.repository, c);
    if (r_.require(n, "schedule", p, "{cron: \"0 2 * * *\", time-zone: UTC} or {every: 1h}"))
      schedule(n["schedule"], p + ".schedule", pc.schedule);
    if (pc.schedule.offset_auto) pc.schedule.offset_s = Schedule::auto_offset(pc.name, pc.schedule.interval_s);
    if (r_.duration(n, "start-window", p, pc.start_window_s) && pc.start_window_s <= 0)
      r_.error(n["start-window"], p + ".start-window", "must be above 0 (a job with no time to start always expires)");
    r_.duration(n, "completion-window", p, pc.completion_window_s);
    enum_field(n, "overlap", p, pc.overlap, parse_overlap, "skip, queue or cancel-previous");
    enum_field(n, "catch-up", p, pc.catch_up, parse_catch_up, "none or one");
    r_.boolean(n, "paused", p, pc.paused);
    r_.boolean(n, "run-on-create", p, pc.run_on_create);
    if (pc.kind == JobKind::Backup && n["retention"].IsDefined())
      pc.retention = retention(n["retention"], p + ".retention");
    if (r_.checked(n, "read-data-subset", p, pc.read_data_subset, [](auto& v) { return cv::check_subset(v); }) &&
        pc.kind == JobKind::Verify && src && src->kind != SourceKind::Files)
      r_.error(n["read-data-subset"], p + ".read-data-subset",
               "applies to verify plans of files sources only ('" + pc.source + "' is " +
                   std::string(to_string(src->kind)) + "); use a check plan for the repository");
    r_.checked(n, "prune-grace", p, pc.prune_grace, [](auto& v) { return cv::check_grace(v); });
    r_.checked(n, "max-unused", p, pc.prune_max_unused, [](auto& v) { return cv::check_share(v); });
    return pc;
  }

  template <typename E, typename ParseFn>
  void enum_field(const YAML::Node& n, const std::string& key, const std::string& p, E& out, ParseFn parse,
                  const std::string& choices) {
    std::string v;
    if (!r_.text(n, key, p, v)) return;
    if (auto e = parse(v))
      out = *e;
    else
      r_.error(n[key], p + "." + key, "'" + v + "' is not one of " + choices);
  }

  void schedule(const YAML::Node& n, const std::string& p, ScheduleSpec& s) {
    if (!r_.map(n, p, kScheduleKeys)) return;
    bool cron = n["cron"].IsDefined(), every = n["every"].IsDefined();
    if (cron == every) {
      r_.error(n, p, cron ? "give cron or every, not both" : "needs cron (\"0 2 * * 0\") or every (1h)");
    }
    if (cron) r_.checked(n, "cron", p, s.cron, [](auto& v) { return cv::check_cron_shape(v); });
    if (n["time-zone"].IsDefined() && !cron)
      r_.error(key_node(n, "time-zone"), p + ".time-zone", "applies to cron schedules only (every is in seconds)");
    r_.checked(n, "time-zone", p, s.time_zone, [](auto& v) { return cv::check_time_zone(v); });
    if (every && r_.duration(n, "every", p, s.interval_s) && s.interval_s <= 0)
      r_.error(n["every"], p + ".every", "must be above 0");
    if (!n["offset"].IsDefined()) return;
    if (!every) {
      r_.error(key_node(n, "offset"), p + ".offset",
               "applies to every only (a cron expression names its own minute: \"7 * * * *\")");
      return;
    }
    if (n["offset"].IsScalar() && n["offset"].Scalar() == "auto") {
      s.offset_auto = true;
    } else if (r_.duration(n, "offset", p, s.offset_s) && s.interval_s > 0 &&
               (s.offset_s < 0 || s.offset_s >= s.interval_s)) {
      r_.error(n["offset"], p + ".offset", "must be at least 0 and less than every (" +
                                               std::to_string(s.interval_s) + "s), or auto");
    }
  }

  std::optional<ops::KeepOptions> retention(const YAML::Node& n, const std::string& p) {
    if (!r_.map(n, p, kRetentionKeys)) return std::nullopt;
    ops::KeepOptions k;
    const size_t errors_before = errors_.size();
    const std::pair<const char*, int*> counts[] = {{"keep-last", &k.last},       {"keep-hourly", &k.hourly},
                                                   {"keep-daily", &k.daily},     {"keep-weekly", &k.weekly},
                                                   {"keep-monthly", &k.monthly}, {"keep-yearly", &k.yearly}};
    for (auto [key, out] : counts) r_.integer(n, key, p, *out, -1, 1000000);
    const std::pair<const char*, std::string*> spans[] = {{"keep-within", &k.within},
                                                          {"keep-within-hourly", &k.within_hourly},
                                                          {"keep-within-daily", &k.within_daily},
                                                          {"keep-within-weekly", &k.within_weekly},
                                                          {"keep-within-monthly", &k.within_monthly},
                                                          {"keep-within-yearly", &k.within_yearly}};
    for (auto [key, out] : spans) r_.checked(n, key, p, *out, [](auto& v) { return cv::check_span(v); });
    if (r_.list(n, "keep-tag", p, k.keep_tags))
      for (const auto& t : k.keep_tags)
        if (t.empty()) r_.error(n["keep-tag"], p + ".keep-tag", "has an empty tag");
    if (errors_.size() != errors_before) return std::nullopt;
    if (!k.any_keep() && k.keep_tags.empty()) {
      r_.error(n, p,
               "keeps nothing: give keep-last, keep-daily, keep-within … (or remove retention to keep everything)");
      return std::nullopt;
    }
    return k;
  }

  // Each replica gets its supervised plan "<repository>.replicate.<replica>".
  void replica_plans(ServerConfig& c) {
    for (const auto& r : c.repositories)
      for (const auto& x : r.replicas) {
        PlanConfig pc;
        pc.name = r.name + ".replicate." + x.name;
        pc.kind = JobKind::Stream;
        pc.repository = r.name;
        pc.replica = x.name;
        pc.replica_settings = x.location + '\n' + std::to_string(x.streams) + '\n' + std::to_string(x.interval_s) +
                              '\n' + std::to_string(x.limit_upload_kib);
        for (const auto& [k, v] : x.options) pc.replica_settings += '\n' + k + '=' + v;
        pc.schedule.continuous = true;
        pc.line = x.line;
        if (const PlanConfig* clash = c.plan(pc.name)) {
          errors_.push_back({clash->line, 1, "plans." + pc.name,
                             "this name belongs to the replication plan of replica '" + x.name + "' of repository '" +
                                 r.name + "'; rename the plan"});
          continue;
        }
        c.plans.push_back(std::move(pc));
      }
  }

  // Each source asking for a continuous stream gets its supervised plan "<source>.stream".
  void stream_plans(ServerConfig& c) {
    for (const auto& s : c.sources) {
      if (!s.stream.enabled) continue;
      PlanConfig pc;
      pc.name = s.name + ".stream";
      pc.kind = JobKind::Stream;
      pc.source = s.name;
      pc.schedule.continuous = true;
      pc.line = s.line;
      if (auto it = stream_retention_.find(s.name); it != stream_retention_.end()) pc.retention = it->second;
      if (const PlanConfig* clash = c.plan(pc.name)) {
        errors_.push_back({clash->line, 1, "plans." + pc.name,
                           "this name belongs to the stream plan of source '" + s.name + "'; rename the plan"});
        continue;
      }
      c.plans.push_back(std::move(pc));
    }
  }

  void notifications(const YAML::Node& n, ServerConfig& c) {
    const std::string p = "notifications";
    if (!r_.map(n, p, kNotificationKeys)) return;
    if (const YAML::Node& w = n["webhooks"]; w.IsDefined()) {
      if (!w.IsSequence())
        r_.error(w, p + ".webhooks", "must be a list of webhooks (- url: ...)");
      else
        for (size_t i = 0; i < w.size(); i++)
          c.webhooks.push_back(webhook(w[i], p + ".webhooks[" + std::to_string(i) + "]"));
    }
    if (n["email"].IsDefined()) c.email = email(n["email"], p + ".email");
  }

  WebhookConfig webhook(const YAML::Node& n, const std::string& p) {
    WebhookConfig w;
    w.line = ConfigReader::line_of(n);
    if (!r_.map(n, p, kWebhookKeys)) return w;
    if (r_.require(n, "url", p, "where to POST the events") &&
        r_.checked(n, "url", p, w.url, [](auto& v) { return cv::check_http_url(v); }) && cv::url_has_password(w.url))
      r_.inline_secret(n["url"], p + ".url");
    r_.secret(n, "secret", p, w.secret);
    events(n, p, w.events);
    return w;
  }

  EmailConfig email(const YAML::Node& n, const std::string& p) {
    EmailConfig m;
    m.line = ConfigReader::line_of(n);
    if (!r_.map(n, p, kEmailKeys)) return m;
    if (r_.require(n, "smtp-host", p, "the mail server") && r_.text(n, "smtp-host", p, m.smtp_host) &&
        m.smtp_host.empty())
      r_.error(n["smtp-host"], p + ".smtp-host", "is empty: name the mail server");
    r_.integer(n, "smtp-port", p, m.smtp_port, 1, 65535);
    r_.boolean(n, "starttls", p, m.starttls);
    r_.text(n, "username", p, m.username);
    r_.secret(n, "password", p, m.password);
    auto address = [](const std::string& v) -> std::optional<std::string> {
      if (v.find('@') != std::string::npos) return std::nullopt;
      return "'" + v + "' is not a mail address";
    };
    if (r_.require(n, "from", p, "the sender's address")) r_.checked(n, "from", p, m.from, address);
    if (r_.require(n, "to", p, "the recipients' addresses") && r_.list(n, "to", p, m.to)) {
      if (m.to.empty()) r_.error(n["to"], p + ".to", "is empty: list at least one address");
      for (size_t i = 0; i < m.to.size(); i++)
        if (auto bad = address(m.to[i])) r_.error(n["to"][i], p + ".to[" + std::to_string(i) + "]", *bad);
    }
    events(n, p, m.events);
    r_.checked(n, "digest-at", p, m.digest_at, [](auto& v) { return cv::check_clock_time(v); });
    return m;
  }

  void events(const YAML::Node& n, const std::string& p, std::vector<std::string>& out) {
    if (!r_.list(n, "events", p, out)) return;
    for (size_t i = 0; i < out.size(); i++)
      if (auto bad = cv::check_event_name(out[i]))
        r_.error(n["events"][i], p + ".events[" + std::to_string(i) + "]", *bad);
  }

  std::vector<ConfigError>& errors_;
  ConfigReader r_;
  std::map<std::string, ops::KeepOptions> stream_retention_;  // by source: continuous.retention
};

// The column (1-based) of a tab in the indentation of line `line` (1-based) of `text`, if any.
std::optional<int> indentation_tab(const std::string& text, int line) {
  if (line < 1) return std::nullopt;
  size_t at = 0;
  for (int l = 1; l < line && at != std::string::npos; l++) {
    at = text.find('\n', at);
    if (at != std::string::npos) at++;
  }
  for (size_t i = at; at != std::string::npos && i < text.size() && (text[i] == ' ' || text[i] == '\t'); i++)
    if (text[i] == '\t') return static_cast<int>(i - at) + 1;
  return std::nullopt;
}

struct Parsed {
  ConfigLoad load;
  std::vector<ValueAt> inline_secrets, files;
};

Parsed parse(const std::string& text, const std::string& path, const std::string& base_dir) {
  Parsed out;
  ServerConfig c;
  c.path = path;
  std::vector<ConfigError>& errors = out.load.errors;
  try {
    YAML::Node root = YAML::Load(text);
    Parser p(errors, base_dir);
    p.parse(root, c);
    out.inline_secrets = p.reader().inline_secrets();
    out.files = p.reader().files();
    // Files points name their source by host and path set: two sources that share both could not
    // be told apart (one's retention would remove the other's points).
    for (size_t j = 0; j < c.sources.size(); ++j)
      for (size_t i = 0; i < j; ++i) {
        const SourceConfig &a = c.sources[i], &b = c.sources[j];
        if (a.kind == SourceKind::Files && b.kind == SourceKind::Files && a.host == b.host &&
            same_path_set(a.paths, b.paths)) {
          ConfigError e;
          e.line = b.line;
          e.field = "sources." + b.name + ".paths";
          e.message = "the same paths on the same host as source '" + a.name +
                      "': their recovery points could not be told apart (one's retention would remove the "
                      "other's); use one source with several plans";
          errors.push_back(e);
          break;
        }
      }
  } catch (const YAML::ParserException& e) {
    ConfigError err;
    if (!e.mark.is_null()) err.line = e.mark.line + 1, err.column = e.mark.column + 1;
    err.message = "not valid YAML: " + e.msg;
    // yaml-cpp's words for a tab in the indentation ("illegal map value", "illegal tab when
    // looking for indentation") do not say what to change.
    if (auto tab = indentation_tab(text, err.line)) {
      err.column = *tab;
      err.message = "tabs are not allowed for indentation in YAML: use spaces";
    }
    errors.push_back(err);
  }
  std::stable_sort(errors.begin(), errors.end(), [](const ConfigError& a, const ConfigError& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  if (errors.empty()) out.load.config = std::move(c);
  return out;
}

}  // namespace

const ReplicaConfig* RepositoryConfig::replica(const std::string& n) const {
  for (const auto& r : replicas)
    if (r.name == n) return &r;
  return nullptr;
}
const RepositoryConfig* ServerConfig::repository(const std::string& name) const {
  for (const auto& r : repositories)
    if (r.name == name) return &r;
  return nullptr;
}
const SourceConfig* ServerConfig::source(const std::string& name) const {
  for (const auto& s : sources)
    if (s.name == name) return &s;
  return nullptr;
}
const PlanConfig* ServerConfig::plan(const std::string& name) const {
  for (const auto& p : plans)
    if (p.name == name) return &p;
  return nullptr;
}

ConfigLoad parse_config(const std::string& text, const std::string& path) {
  return parse(text, path, std::filesystem::path(path).parent_path().string()).load;
}

ConfigLoad load_config(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    int err = errno;
    if (err == ENOENT) throw Error(ErrorKind::NotFound, "configuration file " + path + " does not exist");
    throw_errno("stat", path, err);
  }
  if (S_ISDIR(st.st_mode))
    throw Error(ErrorKind::Usage, "configuration file " + path + " is a directory: give the YAML file");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(ErrorKind::Io, "cannot read configuration file " + path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << f.rdbuf();
  Parsed p = parse(text.str(), path, std::filesystem::absolute(path).parent_path().string());
  std::vector<ConfigError> more;
  if (auto open = readable_by_others(path, st.st_mode))
    for (const auto& s : p.inline_secrets)
      more.push_back({s.line, s.column, s.field,
                      "holds a secret, and " + *open + " (or move the secret to a file named by password-file)"});
  for (const auto& fa : p.files) {
    struct stat fs {};
    if (::stat(fa.value.c_str(), &fs) != 0) {
      int err = errno;
      more.push_back({fa.line, fa.column, fa.field,
                      err == ENOENT ? "the file " + fa.value + " does not exist"
                                    : "cannot use " + fa.value + ": " + std::strerror(err)});
    } else if (auto open = fa.secret ? readable_by_others(fa.value, fs.st_mode) : std::nullopt) {
      more.push_back({fa.line, fa.column, fa.field, "names a file that holds a secret, and " + *open});
    }
  }
  if (!more.empty()) {
    p.load.config.reset();
    p.load.errors.insert(p.load.errors.end(), more.begin(), more.end());
    std::stable_sort(p.load.errors.begin(), p.load.errors.end(), [](const ConfigError& a, const ConfigError& b) {
      return std::tie(a.line, a.column) < std::tie(b.line, b.column);
    });
  }
  return p.load;
}

}  // namespace arca::server
