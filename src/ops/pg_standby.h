// A warm standby from the repository (`arca pg restore --standby`, docs/postgres.md "Warm
// standby"): a running PostgreSQL server in recovery that keeps replaying the WAL archived in the
// repository. `arca pg promote` ends its recovery and measures the failover: how long promotion
// took and what the new primary holds (the last WAL replayed and the last commit replayed), which
// is what a drill needs for RTO and RPO. Works on any running PostgreSQL 12+ standby.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/job_context.h"

namespace arca::ops {

// Which server: the one running on `data_directory` (postmaster.pid names its socket and port).
struct PgStandbyRef {
  std::string data_directory;
  // libpq connection string or URI; "" = the server's socket directory and port, database
  // postgres, as the directory's owner when run as root (else as PGUSER or this user).
  std::string conninfo;
};

// What a running server has replayed.
struct PgReplayState {
  bool in_recovery = false;
  std::string replay_lsn;        // pg_last_wal_replay_lsn() ("" = nothing replayed)
  std::string last_commit_time;  // pg_last_xact_replay_timestamp(), RFC 3339 UTC with microseconds ("" = none)
  double last_commit_unix = 0;   // the same in unix seconds (0 = none)
};

struct PgPromoteRequest {
  PgStandbyRef server;
  int timeout_s = 60;  // for promotion to finish (pg_promote's wait)
};

struct PgPromoteResult {
  std::string data_directory;
  int port = 0;
  PgReplayState before;  // when promotion was asked for
  PgReplayState after;   // once it accepts writes: what recovery replayed in the end
  double requested_unix = 0, promoted_unix = 0;
  double promote_s = 0;  // asking for promotion -> pg_is_in_recovery() false (writes accepted)
  std::vector<std::string> warnings;
  nlohmann::json to_json() const;  // pg promote --json
};

// The replay state of the server running on `ref.data_directory` (a standby's lag: now minus
// last_commit_unix while the primary writes). Errors as pg_promote's, up to "not a standby".
PgReplayState pg_replay_state(const PgStandbyRef& ref);

// Promotes the standby running on req.server.data_directory and waits until it accepts writes.
// Errors: no data directory there, Error(NotFound, exit 10); no server running on it,
// Error(Unreachable, exit 10); a server that is not in recovery, Error(Refused, exit 15);
// promotion not finished within the timeout, Error(Generic, exit 1). Afterwards the credentials
// file and WAL spool of a standby Arca started are removed (restore_command will not run again).
PgPromoteResult pg_promote(const PgPromoteRequest& req, JobContext& ctx);

}  // namespace arca::ops
