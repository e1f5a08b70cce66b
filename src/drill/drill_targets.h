// Components restored into explicit targets instead of scratch servers (docs/drills.md,
// "Targets"): a PostgreSQL data directory and port, a running Redis server the file names. The production rule where only the target
// can tell (a Redis database that holds keys) is applied here, before anything is written.
// Internal to src/drill.
#pragma once
#include "drill/drill_components.h"
#include "ops/pg_restore.h"

namespace arca::drill {

// Loads the recovery point's keys into `target.url` and validates them there; refuses
// (Error(Refused)) a database that holds keys unless the component says `production: true`.
void redis_target_component(const ComponentRun& run, ComponentResult& r, JobContext& ctx);

// Restores into `target.data_dir` (absent or empty, always), starts the server there on
// `target.port` and leaves it running, promoted; the SQL checks run over its socket as libpq's
// default user (PGUSER).
void postgres_target_component(const ComponentRun& run, ComponentResult& r, JobContext& ctx);

// A PostgreSQL component restored with ops::pg_restore (an explicit target, a failover standby):
// the request every such restore shares (the source, the owner, never archiving into the source's
// archive, a fixed `snapshot:`), restoring into `data_dir`.
ops::PgRestoreRequest pg_restore_request(const ComponentRun& run, const std::string& data_dir);
// Its locate phase: the repository opened into `repo`, the source checked, the base backup chosen
// for `req`, and — when WAL is replayed (`wal`) — the restore_command that fetches it.
Snapshot locate_pg_base(const ComponentRun& run, ComponentResult& r, ops::PgRestoreRequest& req, bool wal,
                        std::unique_ptr<Repository>& repo);

// The component's SQL checks against a running server (`conninfo` with each check's database),
// one CheckResult each: a query that fails is a failed check, not an error of the component.
void run_sql_checks(const std::vector<SqlCheck>& checks, const std::string& conninfo, ComponentResult& r);

}  // namespace arca::drill
