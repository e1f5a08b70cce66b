#include "drill/drill_spec.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "config/reader.h"
#include "config/values.h"
#include "util/clock.h"
#include "util/error.h"

namespace arca::drill {

using config::ConfigReader;

std::string_view to_string(ComponentKind k) {
  switch (k) {
    case ComponentKind::Postgres: return "postgres";
    case ComponentKind::Redis: return "redis";
    case ComponentKind::Kafka: return "kafka";
    case ComponentKind::Files: return "files";
  }
  return "files";
}

const ComponentSpec* DrillSpec::component(const std::string& name) const {
  for (const auto& c : components)
    if (c.name == name) return &c;
  return nullptr;
}

namespace {

const ConfigReader::Keys kTopKeys{"drill", "incident-time", "scratch", "components"};
const ConfigReader::Keys kComponentKeys{"kind",       "source",   "host",       "paths",      "snapshot",
                                        "recover-to", "failover", "directory",  "target",     "production",
                                        "topics",     "groups",   "objectives", "depends-on", "validate"};
const ConfigReader::Keys kFailoverKeys{"catch-up-timeout"};
// A drill is one measured recovery of related systems; thousands of components are a mistake
// (or a generated file gone wrong), and each costs a thread and a scratch server when it runs.
constexpr size_t kMaxComponents = 500;

const ConfigReader::Keys kKafkaTargetKeys{"brokers", "topic-prefix", "group-prefix"};
const ConfigReader::Keys kPostgresTargetKeys{"data-dir", "port"};
const ConfigReader::Keys kRedisTargetKeys{"url", "password-file", "password-env"};
const ConfigReader::Keys kObjectiveKeys{"rto", "rpo"};
const ConfigReader::Keys kValidateKeys{"sql", "commands", "files", "samples", "min-keys", "min-records"};
const ConfigReader::Keys kSqlKeys{"name", "database", "query", "expect"};
const ConfigReader::Keys kCommandKeys{"name", "run", "expect-exit", "expect-output"};

// PostgreSQL's text form of an LSN: two hexadecimal numbers of up to 8 digits, "0/3000060".
bool is_lsn(const std::string& s) {
  const auto slash = s.find('/');
  auto hex = [](std::string_view part) {
    return !part.empty() && part.size() <= 8 &&
           std::all_of(part.begin(), part.end(), [](char ch) { return std::isxdigit(static_cast<unsigned char>(ch)); });
  };
  return slash != std::string::npos && hex(std::string_view(s).substr(0, slash)) && hex(std::string_view(s).substr(slash + 1));
}

// host:port, as librdkafka takes a bootstrap broker.
bool is_host_port(const std::string& s) {
  const auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size()) return false;
  const std::string port = s.substr(colon + 1);
  return port.size() <= 5 && std::all_of(port.begin(), port.end(), [](char ch) { return ch >= '0' && ch <= '9'; }) &&
         std::stoi(port) > 0 && std::stoi(port) < 65536;
}

// Kafka allows [A-Za-z0-9._-] in topic names; a prefix is part of one.
bool is_topic_part(const std::string& s) {
  return s.size() < 200 && std::all_of(s.begin(), s.end(), [](char ch) {
           return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-';
         });
}

class Parser {
 public:
  explicit Parser(std::vector<ConfigError>& errors) : r_(errors) {}

  void parse(const YAML::Node& root, DrillSpec& d) {
    if (!r_.map(root, "", kTopKeys)) return;
    r_.require(root, "drill", "", "the drill's name (drill: nightly)");
    if (r_.text(root, "drill", "", d.name))
      if (auto bad = config::values::check_name(d.name))  // it names scratch directories
        r_.error(root["drill"], "drill", *bad);
    std::string incident;
    if (r_.text(root, "incident-time", "", incident) && incident != "now") {
      d.incident_time = parse_time(incident);
      if (!d.incident_time)
        r_.error(root["incident-time"], "incident-time",
                 "'" + incident + "' is not a time: give RFC 3339 with a zone (2026-12-07T14:05:00Z) or now");
      // A drill recovers from an incident that happened: a later time (a wrong year, a local time
      // marked Z) would measure RPOs of years and send PostgreSQL after WAL that cannot exist.
      else if (*d.incident_time > double(clock_now() + 1))
        r_.error(root["incident-time"], "incident-time",
                 "'" + incident + "' is in the future: give the time the incident happened, or now");
    }
    if (r_.text(root, "scratch", "", d.scratch_dir) && !std::filesystem::path(d.scratch_dir).is_absolute())
      r_.error(root["scratch"], "scratch", "must be an absolute path (scratch servers run in other directories)");
    if (!r_.require(root, "components", "", "at least one component to restore")) return;
    if (root["components"].IsMap() && root["components"].size() > kMaxComponents) {
      r_.error(root["components"], "components",
               std::to_string(root["components"].size()) + " components: a drill restores at most " +
                   std::to_string(kMaxComponents) + " (split it into several drill files)");
      return;
    }
    for (const auto& e : r_.named_map(root["components"], "components")) {
      ComponentSpec c;
      c.name = e.name;
      c.line = ConfigReader::line_of(e.key);
      component(e.value, "components." + e.name, c);
      d.components.push_back(std::move(c));
    }
    // (A map whose only names were refused already has their errors.)
    if (root["components"].IsMap() && root["components"].size() == 0)
      r_.error(root["components"], "components", "names no component: a drill restores at least one");
    dependencies(root["components"], d);
    // A standby replays every archived segment, past any earlier moment: a failover's incident is
    // the drill's start, when the primary is taken as lost.
    if (d.incident_time)
      for (const auto& c : d.components)
        if (c.failover)
          r_.error(root["components"][c.name]["failover"], "components." + c.name + ".failover",
                   "a standby replays all the archived WAL, past the incident-time given: a failover drill takes "
                   "the drill's start as the incident. Leave incident-time out, or run this component in a drill "
                   "of its own");
    // Components run at once: two restoring into one directory, or one inside the other, would
    // write over each other.
    std::vector<std::pair<std::string, std::string>> targets;  // (normalised directory, component)
    for (const auto& c : d.components) {
      const bool pg = !c.target.data_dir.empty();
      const std::string& dir = pg ? c.target.data_dir : c.directory;
      if (dir.empty()) continue;
      std::string norm = std::filesystem::path(dir).lexically_normal().string();
      while (norm.size() > 1 && norm.back() == '/') norm.pop_back();  // "/x/out/" is "/x/out"
      auto within = [](const std::string& inner, const std::string& outer) {
        return inner == outer || (inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 &&
                                  (outer == "/" || inner[outer.size()] == '/'));
      };
      for (const auto& [other, name] : targets)
        if (within(norm, other) || within(other, norm)) {
          r_.error(pg ? root["components"][c.name]["target"]["data-dir"] : root["components"][c.name]["directory"],
                   "components." + c.name + (pg ? ".target.data-dir" : ".directory"),
                   dir + (norm == other ? " is the directory of component " + name + " too"
                                        : " and the directory of component " + name + " lie one inside the other") +
                       ": give each its own, apart");
          break;
        }
      targets.emplace_back(norm, c.name);
    }
  }

 private:
  void component(const YAML::Node& n, const std::string& p, ComponentSpec& c) {
    if (!r_.map(n, p, kComponentKeys)) return;
    std::string kind;
    bool known = false;  // without a kind, what it needs and refuses is unknown: not judged
    if (r_.require(n, "kind", p, "postgres, redis, kafka or files") && r_.text(n, "kind", p, kind)) {
      known = true;
      if (kind == "postgres") c.kind = ComponentKind::Postgres;
      else if (kind == "redis") c.kind = ComponentKind::Redis;
      else if (kind == "kafka") c.kind = ComponentKind::Kafka;
      else if (kind == "files") c.kind = ComponentKind::Files;
      else known = false, r_.error(n["kind"], p + ".kind", "'" + kind + "' is not one of postgres, redis, kafka or files");
    }
    // What every kind has; then what depends on the kind.
    r_.text(n, "snapshot", p, c.snapshot);
    if (n["objectives"].IsDefined() && r_.map(n["objectives"], p + ".objectives", kObjectiveKeys)) {
      int64_t s = 0;
      // An RTO of 0 can never be met: a typo, not an objective. An RPO of 0 is "no data loss".
      if (r_.duration(n["objectives"], "rto", p + ".objectives", s)) {
        if (s > 0)
          c.objectives.rto_s = s;
        else
          r_.error(n["objectives"]["rto"], p + ".objectives.rto", "must be above 0 (a restore takes time)");
      }
      if (r_.duration(n["objectives"], "rpo", p + ".objectives", s)) c.objectives.rpo_s = s;
    }
    r_.list(n, "depends-on", p, c.depends_on);
    if (!known) return;
    const bool files = c.kind == ComponentKind::Files;
    if (files) {
      if (r_.require(n, "paths", p, "the backed-up paths whose newest recovery point is restored") &&
          r_.list(n, "paths", p, c.paths) && c.paths.empty())
        r_.error(n["paths"], p + ".paths", "names no path: give the paths as given to arca backup");
      r_.text(n, "host", p, c.host);
      if (n["source"].IsDefined())
        r_.error(n["source"], p + ".source", "files components name their recovery points by paths (and host)");
    } else {
      if (r_.require(n, "source", p, "the source name its recovery points carry")) r_.text(n, "source", p, c.source);
      for (const char* k : {"paths", "host", "directory"})
        if (n[k].IsDefined()) r_.error(n[k], p + "." + k, "applies to files components only");
    }
    if (n["recover-to"].IsDefined()) {
      if (c.kind != ComponentKind::Postgres)
        r_.error(n["recover-to"], p + ".recover-to", "applies to postgres components only");
      else
        recover_to(n, p, c.recover_to);
    }
    if (n["failover"].IsDefined()) failover(n, p, c);
    if (files && r_.text(n, "directory", p, c.directory) && !std::filesystem::path(c.directory).is_absolute())
      r_.error(n["directory"], p + ".directory", "must be an absolute path");
    for (const char* k : {"topics", "groups"}) {
      if (!n[k].IsDefined()) continue;
      if (c.kind != ComponentKind::Kafka) {
        r_.error(n[k], p + "." + k, "applies to kafka components only");
        continue;
      }
      const bool topics = std::string(k) == "topics";
      auto& out = topics ? c.topics : c.groups;
      if (r_.list(n, k, p, out) && out.empty())
        r_.error(n[k], p + "." + k, std::string("names no ") + (topics ? "topic" : "group") +
                                        ": leave it out for every recorded one");
    }
    if (r_.boolean(n, "production", p, c.production) && files)
      r_.error(n["production"], p + ".production",
               "applies to postgres, redis and kafka targets: a files directory must be absent or empty");
    if (n["target"].IsDefined()) {
      if (files)
        r_.error(n["target"], p + ".target", "files components restore into directory: (an absolute path)");
      else
        target(n["target"], p + ".target", c);
    } else if (c.production && !files) {
      r_.error(n["production"], p + ".production", "applies to an explicit target: this component restores into scratch");
    }
    if (n["validate"].IsDefined()) validate(n["validate"], p + ".validate", c);
  }

  // An explicit target; the production rule where the file alone can tell.
  void target(const YAML::Node& n, const std::string& p, ComponentSpec& c) {
    Target& t = c.target;
    t.given = true;
    if (c.kind == ComponentKind::Kafka) {
      if (!r_.map(n, p, kKafkaTargetKeys)) return;
      if (r_.require(n, "brokers", p, "the target cluster's bootstrap brokers ([host:port, …])") &&
          r_.list(n, "brokers", p, t.brokers)) {
        if (t.brokers.empty()) r_.error(n["brokers"], p + ".brokers", "names no broker: give [host:port, …]");
        for (const auto& b : t.brokers)
          if (!is_host_port(b)) r_.error(n["brokers"], p + ".brokers", "'" + b + "' is not host:port");
      }
      const bool has_prefix = r_.text(n, "topic-prefix", p, t.topic_prefix);
      if (has_prefix && !is_topic_part(t.topic_prefix))
        r_.error(n["topic-prefix"], p + ".topic-prefix",
                 "'" + t.topic_prefix + "' has characters Kafka refuses in topic names (letters, digits, . _ - only)");
      const bool has_group_prefix = r_.text(n, "group-prefix", p, t.group_prefix);
      if (!has_group_prefix) t.group_prefix = t.topic_prefix;
      if (!t.topic_prefix.empty() && t.group_prefix.empty() && !c.production)
        r_.error(n["group-prefix"], p + ".group-prefix",
                 "empty: the drill would commit translated offsets under the archived consumer groups' own names, "
                 "which production consumers use. Give a group-prefix (or leave it out: the topic-prefix is used), "
                 "or production: true in the component if that is meant");
      if (t.topic_prefix.empty() && !c.production)
        r_.error(has_prefix ? n["topic-prefix"] : n, p + (has_prefix ? ".topic-prefix" : ""),
                 "no topic-prefix: the drill would replay into the archived topics themselves and commit their "
                 "groups' offsets, on a cluster that may be production. Give topic-prefix: (e.g. drill-), or "
                 "production: true in the component if that is meant");
    } else if (c.kind == ComponentKind::Postgres) {
      if (!r_.map(n, p, kPostgresTargetKeys)) return;
      if (r_.require(n, "data-dir", p, "the data directory to restore into (absent or empty)") &&
          r_.text(n, "data-dir", p, t.data_dir) && !std::filesystem::path(t.data_dir).is_absolute())
        r_.error(n["data-dir"], p + ".data-dir", "must be an absolute path");
      if (r_.require(n, "port", p, "the port the restored server listens on")) r_.integer(n, "port", p, t.port, 1, 65535);
    } else if (c.kind == ComponentKind::Redis) {
      if (!r_.map(n, p, kRedisTargetKeys)) return;
      if (r_.require(n, "url", p, "the server to load into (redis://host:port/db)") && r_.text(n, "url", p, t.url)) {
        if (t.url.rfind("redis://", 0) != 0 && t.url.rfind("rediss://", 0) != 0)
          r_.error(n["url"], p + ".url", "'" + t.url + "' is not a redis:// or rediss:// URL");
        else if (config::values::url_has_password(t.url))
          r_.error(n["url"], p + ".url", "holds a password: give it by password-file or password-env, never in the drill file");
      }
      r_.secret(n, "password", p, t.password);
    }
  }

  // `failover: true`, or `failover: {catch-up-timeout: 10m}`; only where recovery goes to the end.
  void failover(const YAML::Node& n, const std::string& p, ComponentSpec& c) {
    const YAML::Node v = n["failover"];
    const std::string field = p + ".failover";
    if (c.kind != ComponentKind::Postgres) {
      r_.error(v, field, "applies to postgres components only");
      return;
    }
    if (v.IsMap()) {
      if (!r_.map(v, field, kFailoverKeys)) return;
      c.failover = true;
      int64_t s = 0;
      if (r_.duration(v, "catch-up-timeout", field, s)) {
        if (s <= 0)
          r_.error(v["catch-up-timeout"], field + ".catch-up-timeout",
                   "must be above 0: how long the standby may take to replay the archived WAL (e.g. 10m)");
        else
          c.catch_up_timeout_s = s;
      }
    } else if (!r_.boolean(n, "failover", p, c.failover)) {
      return;
    }
    if (c.failover && c.recover_to.kind != PgRecoverTo::Kind::Latest)
      r_.error(n["recover-to"], p + ".recover-to",
               "a failover drill promotes a standby that has replayed all the archived WAL: only recover-to: latest "
               "(the default) applies. Drop failover: for a drill to a point in time");
  }

  void recover_to(const YAML::Node& n, const std::string& p, PgRecoverTo& t) {
    const YAML::Node v = n["recover-to"];
    const std::string field = p + ".recover-to";
    if (v.IsScalar()) {
      const std::string s = v.Scalar();
      if (s == "latest") t.kind = PgRecoverTo::Kind::Latest;
      else if (s == "incident") t.kind = PgRecoverTo::Kind::Incident;
      else if (s == "backup") t.kind = PgRecoverTo::Kind::Backup;
      else r_.error(v, field, "'" + s + "' is not latest, incident, backup, {time: …}, {lsn: …} or {name: …}");
      return;
    }
    if (!r_.map(v, field, {"time", "lsn", "name"})) return;
    if (v.size() != 1) {
      r_.error(v, field, "give one of time, lsn or name");
      return;
    }
    if (r_.text(v, "time", field, t.value)) {
      t.kind = PgRecoverTo::Kind::Time;
      const auto at = parse_time(t.value);
      if (!at)
        r_.error(v["time"], field + ".time", "'" + t.value + "' is not a time: give RFC 3339 with a zone");
      else if (*at > double(clock_now() + 1))  // WAL that does not exist yet: recovery would fail
        r_.error(v["time"], field + ".time", "'" + t.value + "' is in the future: give a time already archived");
    } else if (r_.text(v, "lsn", field, t.value)) {
      t.kind = PgRecoverTo::Kind::Lsn;
      if (!is_lsn(t.value))
        r_.error(v["lsn"], field + ".lsn", "'" + t.value + "' is not an LSN (like 0/3000060)");
    } else if (r_.text(v, "name", field, t.value)) {
      t.kind = PgRecoverTo::Kind::Name;
      if (t.value.empty()) r_.error(v["name"], field + ".name", "is empty: give the restore point's name");
    }
  }

  void validate(const YAML::Node& n, const std::string& p, ComponentSpec& c) {
    if (!r_.map(n, p, kValidateKeys)) return;
    auto only = [&](const char* key, ComponentKind kind) {
      if (n[key].IsDefined() && c.kind != kind) {
        r_.error(n[key], p + "." + key, "applies to " + std::string(to_string(kind)) + " components only");
        return false;
      }
      return n[key].IsDefined();
    };
    if (only("sql", ComponentKind::Postgres)) sql(n["sql"], p + ".sql", c.sql);
    if (only("files", ComponentKind::Files)) r_.list(n, "files", p, c.expect_files);
    int v = 0;
    if (only("samples", ComponentKind::Redis) && r_.integer(n, "samples", p, v, 0, 100000))
      c.redis_samples = size_t(v);
    if (only("min-keys", ComponentKind::Redis) && r_.integer(n, "min-keys", p, v, 0, 2000000000))
      c.min_keys = uint64_t(v);
    if (only("min-records", ComponentKind::Kafka) && r_.integer(n, "min-records", p, v, 0, 2000000000))
      c.min_records = uint64_t(v);
    if (n["commands"].IsDefined()) commands(n["commands"], p + ".commands", c.commands);
  }

  void sql(const YAML::Node& list, const std::string& p, std::vector<SqlCheck>& out) {
    if (!list.IsSequence()) {
      r_.error(list, p, "must be a list of {query: …, expect: …}");
      return;
    }
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string f = p + "[" + std::to_string(i) + "]";
      SqlCheck s;
      if (!r_.map(list[i], f, kSqlKeys)) continue;
      r_.require(list[i], "query", f);
      r_.require(list[i], "expect", f, "the value the query's first column must have");
      r_.text(list[i], "query", f, s.query);
      r_.text(list[i], "expect", f, s.expect);
      r_.text(list[i], "database", f, s.database);
      s.name = s.query;
      r_.text(list[i], "name", f, s.name);
      out.push_back(std::move(s));
    }
  }

  void commands(const YAML::Node& list, const std::string& p, std::vector<CommandCheck>& out) {
    if (!list.IsSequence()) {
      r_.error(list, p, "must be a list of {run: [program, args…], expect-exit: 0}");
      return;
    }
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string f = p + "[" + std::to_string(i) + "]";
      CommandCheck cmd;
      if (!r_.map(list[i], f, kCommandKeys)) continue;
      if (r_.require(list[i], "run", f, "[program, args…] (no shell)") && r_.list(list[i], "run", f, cmd.argv) &&
          cmd.argv.empty())
        r_.error(list[i]["run"], f + ".run", "names no program");
      r_.integer(list[i], "expect-exit", f, cmd.expect_exit, 0, 255);
      std::string expect;
      if (r_.text(list[i], "expect-output", f, expect)) cmd.expect_output = expect;
      cmd.name = cmd.argv.empty() ? "command" : cmd.argv.front();
      r_.text(list[i], "name", f, cmd.name);
      out.push_back(std::move(cmd));
    }
  }

  // Every name a component depends on exists, and the graph has no cycle.
  void dependencies(const YAML::Node& components, const DrillSpec& d) {
    for (const auto& c : d.components)
      for (const auto& dep : c.depends_on)
        if (!d.component(dep) || dep == c.name)
          r_.error(components[c.name]["depends-on"], "components." + c.name + ".depends-on",
                   dep == c.name ? "a component cannot depend on itself" : "no component named '" + dep + "'");
    // Kahn's algorithm: whatever cannot be ordered lies on a cycle.
    std::set<std::string> done;
    bool progress = true;
    while (progress) {
      progress = false;
      for (const auto& c : d.components) {
        if (done.count(c.name)) continue;
        bool ready = std::all_of(c.depends_on.begin(), c.depends_on.end(),
                                 [&](const std::string& dep) { return done.count(dep) || !d.component(dep); });
        if (ready) done.insert(c.name), progress = true;
      }
    }
    for (const auto& c : d.components)
      if (!done.count(c.name)) {
        r_.error(components[c.name]["depends-on"], "components." + c.name + ".depends-on",
                 "is part of a dependency cycle");
        break;
      }
  }

  ConfigReader r_;
};

}  // namespace

DrillLoad parse_drill(const std::string& text, const std::string& path) {
  (void)path;
  DrillLoad out;
  DrillSpec d;
  try {
    YAML::Node root = YAML::Load(text);
    Parser(out.errors).parse(root, d);
  } catch (const YAML::ParserException& e) {
    ConfigError err;
    if (!e.mark.is_null()) err.line = e.mark.line + 1, err.column = e.mark.column + 1;
    err.message = "not valid YAML: " + e.msg;
    out.errors.push_back(err);
  }
  std::stable_sort(out.errors.begin(), out.errors.end(), [](const ConfigError& a, const ConfigError& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  if (out.errors.empty()) out.spec = std::move(d);
  return out;
}

DrillLoad load_drill(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    int err = errno;
    if (err == ENOENT) throw Error(ErrorKind::NotFound, "drill file " + path + " does not exist");
    throw_errno("stat", path, err);
  }
  if (S_ISDIR(st.st_mode)) throw Error(ErrorKind::Usage, "drill file " + path + " is a directory: give the YAML file");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(ErrorKind::Io, "cannot read drill file " + path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << f.rdbuf();
  return parse_drill(text.str(), path);
}

}  // namespace arca::drill
