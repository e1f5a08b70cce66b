// `arca pg backup` (a physical base backup over the replication protocol) and `arca pg dump` (a
// logical export with pg_dump) as operations.
#pragma once
#include <nlohmann/json.hpp>

#include "repo/repository.h"
#include "sources/postgres/base_backup.h"
#include "sources/postgres/logical_dump.h"
#include "util/job_context.h"

namespace arca::ops {

using PgBackupRequest = PgBackupOptions;  // its `cancel` is the job's
using PgDumpRequest = PgDumpOptions;      // its `cancel` is the job's

// The saved recovery point (both commands).
struct PgPointResult {
  Snapshot snapshot;
  nlohmann::json to_json() const;  // the saved point, with "short_id" (pg backup/dump --json)
};
using PgBackupResult = PgPointResult;
using PgDumpResult = PgPointResult;

PgBackupResult pg_backup(Repository& repo, const PgBackupRequest& req, JobContext& ctx);
PgDumpResult pg_dump(Repository& repo, const PgDumpRequest& req, JobContext& ctx);

}  // namespace arca::ops
