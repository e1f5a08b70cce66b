// The server's configuration (one YAML file, docs/server.md): repositories, sources, plans,
// objectives, notifications and the server's own settings. Loading reports every error with its
// line and field; unknown fields are errors; secrets are only ever referenced (a file or an
// environment variable), and a file that holds them must not be readable by others.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/types.h"
#include "drill/drill_spec.h"
#include "ops/forget.h"
#include "server/job_model.h"

namespace arca::server {

using config::ConfigError;
using config::Objectives;
using config::parse_duration;
using config::readable_by_others;
using config::SecretRef;

// A replica the server keeps filled (docs/replication.md, "In the server"): made beforehand by
// `arca init --like`; its plan "<repository>.replicate.<replica>" copies all the time.
struct ReplicaConfig {
  std::string name;
  std::string location;                        // a directory or s3:https://host/bucket/prefix
  std::map<std::string, std::string> options;  // its backend options (its own S3 profile, …)
  int streams = 0;                             // transfers at once (0: the stores' parallelism)
  int64_t interval_s = 30;                     // a sweep at least this often; writes in this server wake it sooner
  int64_t limit_upload_kib = 0;                // KiB/s written to the replica at most (0: no limit)
  int line = 0;
};

struct RepositoryConfig {
  std::string name;
  std::string location;                       // a directory or s3:https://host/bucket/prefix
  std::map<std::string, std::string> options;  // the CLI's -o KEY=VALUE backend options
  SecretRef password;                         // the repository password ...
  std::string key_file;                       // ... or a key file (exactly one of the two)
  int max_jobs = 0;                           // jobs at once on this repository (0: no limit)
  int line = 0;
  std::vector<ReplicaConfig> replicas = {};
  const ReplicaConfig* replica(const std::string& name) const;
};

struct StreamConfig {  // a continuous job (PostgreSQL wal-stream, Kafka continuous archive)
  bool enabled = false;
  std::string slot;                 // PostgreSQL replication slot (default: Arca's)
  double interval_s = 10;           // Kafka: seconds between recovery points
  int64_t backoff_min_s = 1;        // restart after a failure: this long first, doubling ...
  int64_t backoff_max_s = 300;      // ... up to this
  int64_t stall_after_s = 300;      // no progress for this long: the stream counts as stalled
};

struct SourceConfig {
  std::string name;
  SourceKind kind = SourceKind::Files;
  std::string repository;  // a RepositoryConfig name
  std::string host;        // recorded in points (default: this machine's name)
  std::vector<std::string> tags;
  Objectives objectives;
  int max_jobs = 1;  // jobs at once on this source (a stream does not count)
  // files
  std::vector<std::string> paths, excludes;
  bool one_file_system = false;
  // postgres: libpq conninfo without a password; the password by reference
  std::string conninfo;
  SecretRef pg_password;
  // redis
  std::string url;  // redis://host:port[/db] without a password
  SecretRef redis_password;
  // kafka
  std::vector<std::string> brokers;
  std::string topics = ".*";  // regular expression
  std::vector<std::string> groups;
  StreamConfig stream;  // postgres: wal_stream; kafka: continuous
  int line = 0;
};

struct ScheduleSpec {
  std::string cron;               // 5 fields: minute hour day-of-month month day-of-week
  std::string time_zone = "UTC";  // an IANA zone (/usr/share/zoneinfo)
  int64_t interval_s = 0;         // or an interval (then `cron` is empty)
  int64_t offset_s = 0;           // an interval's grid is shifted by this (0 <= offset_s < interval_s)
  bool offset_auto = false;       // `offset: auto`: the loader derives offset_s from the plan's name
  bool continuous = false;        // stream plans: no schedule, supervised
};

struct PlanConfig {
  std::string name;
  JobKind kind = JobKind::Backup;
  std::string source;      // backup, verify, stream
  std::string repository;  // check, prune, drill (backup/verify: the source's)
  ScheduleSpec schedule;
  int64_t start_window_s = 3600;   // a job that cannot start this long after its time is EXPIRED
  int64_t completion_window_s = 0; // 0: none; else a job still running this long after its time is cancelled
  OverlapPolicy overlap = OverlapPolicy::Skip;
  CatchUp catch_up = CatchUp::None;
  bool paused = false;
  bool run_on_create = false;  // creating or editing the plan fires one job at once
  std::optional<ops::KeepOptions> retention;  // backup: applied (forget) after each success
  std::string read_data_subset;               // check (and files verify): "5%" or "n/t"
  std::string prune_grace = "24h", prune_max_unused = "25%";  // prune
  std::string replica;           // a replica's stream plan: the replica (of `repository`)
  std::string replica_settings;  // … and its settings as text: a change restarts the stream
  std::string drill_file;                         // drill: the drill file (absolute)
  std::shared_ptr<const drill::DrillSpec> drill;  // drill: as read with the configuration, objectives
                                                  // filled in from the sources where the file has none
  int line = 0;
};

struct WebhookConfig {
  std::string url;
  SecretRef secret;                 // HMAC-SHA-256 key for the X-Arca-Signature header
  std::vector<std::string> events;  // event names (BACKUP_JOB_FAILED, ...); empty: all
  int line = 0;
};

struct EmailConfig {
  std::string smtp_host;
  int smtp_port = 25;
  bool starttls = false;
  std::string username;
  SecretRef password;
  std::string from;
  std::vector<std::string> to;
  std::vector<std::string> events;  // empty: all
  std::string digest_at;            // "HH:MM" (UTC): one daily digest instead of a mail per event
  int line = 0;
};

struct ServerSettings {
  std::string listen = "127.0.0.1:8670";
  std::string tls_certificate, tls_key;  // both or neither
  std::string catalog = "/var/lib/arca/catalog.db";
  std::string log_format = "text";  // text | json
  int max_jobs = 4;                 // jobs at once in this server (streams not counted)
  int64_t shutdown_grace_s = 30;    // SIGTERM: how long running jobs get to stop after cancel
  int64_t lease_s = 30;             // a running job's lease, renewed every lease_s / 3
};

struct ServerConfig {
  ServerSettings server;
  std::vector<RepositoryConfig> repositories;
  std::vector<SourceConfig> sources;
  std::vector<PlanConfig> plans;  // stream plans for sources with stream.enabled included
  std::vector<WebhookConfig> webhooks;
  std::optional<EmailConfig> email;
  std::string path;  // the file it came from

  const RepositoryConfig* repository(const std::string& name) const;
  const SourceConfig* source(const std::string& name) const;
  const PlanConfig* plan(const std::string& name) const;
};

struct ConfigLoad {
  std::optional<ServerConfig> config;  // set only when `errors` is empty
  std::vector<ConfigError> errors;
};

// Every error at once. Secrets belong in files or the environment; a value that is one anyway
// (a backend option named *secret*/*password*/*token*, a URL with a password) is accepted only
// when `load_config` finds the file unreadable by group and others (docs/server.md, "Secrets").
ConfigLoad parse_config(const std::string& text, const std::string& path);
ConfigLoad load_config(const std::string& path);

}  // namespace arca::server
