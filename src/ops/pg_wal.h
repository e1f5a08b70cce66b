// The WAL commands as operations. `pg wal-stream`: WAL streamed over a replication slot into
// the archive until the job is cancelled (its normal end: the result says what was archived).
#pragma once
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "repo/repository.h"
#include "sources/postgres/wal_continuity.h"
#include "sources/postgres/wal_stream.h"
#include "util/job_context.h"

namespace arca::ops {

struct WalStreamRequest {
  WalStreamOptions options;
  std::function<void(const std::string&)> log;  // connection events, as they happen
};

struct WalStreamResult {
  uint64_t received = 0, segments = 0, pieces = 0, flushed_lsn = 0, reconnects = 0;
  nlohmann::json to_json() const;  // pg wal-stream --json, last line
};

// `pg check`: is the WAL archive continuous from every base backup, per timeline (exit 12 if not)?
struct PgCheckRequest {
  uint64_t system_id = 0;  // 0: that of the newest base backup
  std::string conninfo;    // also compare with this live server's WAL position ("" = none)
};

struct PgCheckResult {
  WalContinuityReport report;
  int exit_code() const;           // 0 continuous, 12 a gap
  nlohmann::json to_json() const;  // pg check --json
};

PgCheckResult pg_check(Repository& repo, const PgCheckRequest& req, JobContext& ctx);

// Throws Error(Usage) for a malformed slot name before connecting.
WalStreamResult wal_stream(Repository& repo, const WalStreamRequest& req, JobContext& ctx);

}  // namespace arca::ops
