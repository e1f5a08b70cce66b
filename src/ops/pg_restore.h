// `arca pg restore`: a base backup and the recovery settings into a data directory (sources/
// postgres/cluster_restore.h), then, if asked, the restored server started and waited for until
// it accepts connections (and, with promotion, until it is a primary); it keeps running. A warm
// standby (options.standby) stays in recovery: ops/pg_standby.h promotes it.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "repo/repository.h"
#include "sources/postgres/cluster_restore.h"
#include "util/job_context.h"

namespace arca::ops {

struct PgRestoreRequest {
  PgRestoreOptions options;  // options.snapshot: the chosen point (choose_pg_restore_point); cancel: the job's
  bool start = false;
  int port = 0;  // for start (0: as configured)
  int start_timeout = 3600;
  std::string pg_bin;  // directory with pg_ctl and postgres (default: found for the backup's version)
};

struct PgRestoreOpResult {
  PgRestoreResult restore;
  std::string data_directory, target;  // target: the recovery target described
  bool standby = false;  // a warm standby (options.standby): in recovery until `arca pg promote`
  bool started = false;
  int port = 0;
  std::string socket_dir;
  double start_s = 0, total_s = 0;
  nlohmann::json to_json() const;  // pg restore --json
};

// The base backup for the request's target (or the one it names): before anything is written,
// so the caller can derive the restore_command from it.
Snapshot choose_pg_restore_point(const Repository& repo, const PgRestoreRequest& req);
// Restores the chosen point (req.options.snapshot set) and starts the server if asked.
PgRestoreOpResult pg_restore(Repository& repo, const Snapshot& chosen, const PgRestoreRequest& req, JobContext& ctx);

}  // namespace arca::ops
