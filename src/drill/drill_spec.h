// A drill file (docs/drills.md): which components to restore, from which recovery points, where
// to, how to validate them, and the objectives their measured RTO and RPO are judged against.
// Read with every error at once, each with its line and field, before anything is restored.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/types.h"

namespace arca::drill {

using config::ConfigError;
using config::Objectives;

enum class ComponentKind { Postgres, Redis, Kafka, Files };
std::string_view to_string(ComponentKind k);

// Where PostgreSQL recovery stops. `latest`: all archived WAL; `incident`: just before the
// drill's incident time (a corruption scenario); `backup`: the base backup's own consistent point.
struct PgRecoverTo {
  enum class Kind { Latest, Incident, Backup, Time, Lsn, Name } kind = Kind::Latest;
  std::string value;  // Time: RFC 3339; Lsn: X/Y; Name: a restore point
};

// A validator every kind may have: a program run after the component is restored, with the
// restored location in its environment (ARCA_DRILL_DIR, ARCA_DRILL_PGHOST/PGPORT, ...).
struct CommandCheck {
  std::string name;
  std::vector<std::string> argv;
  int expect_exit = 0;
  std::optional<std::string> expect_output;  // stdout, trailing whitespace trimmed
};

// A PostgreSQL query whose first column of the first row must equal `expect`.
struct SqlCheck {
  std::string name, database = "postgres", query, expect;
};

// Where a component is restored when not to a scratch location the drill creates and owns
// (docs/drills.md "Targets"). Which fields apply depends on the kind; `given` says a `target:`
// was written at all. A target that could hold data someone uses needs `production: true` in the
// component; a PostgreSQL data directory holding data is refused always.
struct Target {
  bool given = false;
  // kafka: replay into these brokers, topics named <topic_prefix><topic>, groups <group_prefix><group>
  std::vector<std::string> brokers;
  std::string topic_prefix, group_prefix;  // group_prefix defaults to topic_prefix
  // postgres: restore into this data directory, start there on this port (left running)
  std::string data_dir;
  int port = 0;
  // redis: load the recovery point's keys into this running server (password by reference)
  std::string url;
  config::SecretRef password;
};

struct ComponentSpec {
  std::string name;
  ComponentKind kind = ComponentKind::Files;
  int line = 0;
  // Which recovery point: pg/redis/kafka by source name; files by the backed-up paths (and host).
  std::string source, host;
  std::vector<std::string> paths;
  std::string snapshot = "latest";  // or an id: then the point is fixed, whatever the incident time
  PgRecoverTo recover_to;           // postgres
  // postgres: a failover drill. The base backup is restored as a warm standby replaying the
  // repository's WAL, waited for until it has replayed all the archive held when it started
  // (within catch_up_timeout_s), then promoted and validated (docs/drills.md "Failover").
  bool failover = false;
  int64_t catch_up_timeout_s = 600;
  // Where to: a scratch location Arca creates and removes (default), or an explicit directory.
  std::string directory;  // files: restore here instead of scratch (must be empty or absent)
  Target target;          // postgres, redis, kafka: an explicit target instead of scratch
  bool production = false;  // the target may hold data someone uses, and the file says so
  std::vector<std::string> topics, groups;  // kafka: what to replay and check (default: all recorded)
  Objectives objectives;
  std::vector<std::string> depends_on;
  // Validators, beyond each kind's built-in ones (pg verify's checks, redis key counts and sampled
  // values, the Kafka archive's checksums, the file tree against the recovery point's manifest).
  std::vector<SqlCheck> sql;
  std::vector<CommandCheck> commands;
  std::vector<std::string> expect_files;  // files: must exist (absolute: original paths; relative: to paths[0])
  size_t redis_samples = 200;
  std::optional<uint64_t> min_keys, min_records;  // redis / kafka: at least this many restored
};

struct DrillSpec {
  std::string name;
  std::optional<double> incident_time;  // unix seconds; unset: the drill's start
  std::string scratch_dir;              // default: $TMPDIR or /tmp
  std::vector<ComponentSpec> components;
  const ComponentSpec* component(const std::string& name) const;
};

struct DrillLoad {
  std::optional<DrillSpec> spec;   // set when there are no errors
  std::vector<ConfigError> errors;  // sorted by line
};

DrillLoad parse_drill(const std::string& text, const std::string& path);
DrillLoad load_drill(const std::string& path);  // an unreadable file is one error at line 0

}  // namespace arca::drill
