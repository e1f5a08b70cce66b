// Components restored into explicit targets instead of scratch servers (docs/drills.md,
// "Targets"): a PostgreSQL data directory and port, a running Redis server the file names. The production rule where only the target
// can tell (a Redis database that holds keys) is applied here, before anything is written.
// Internal to src/drill.
#pragma once
#include "drill/drill_components.h"

namespace arca::drill {

// Loads the recovery point's keys into `target.url` and validates them there; refuses
// (Error(Refused)) a database that holds keys unless the component says `production: true`.
void redis_target_component(const ComponentRun& run, ComponentResult& r, JobContext& ctx);

// Restores into `target.data_dir` (absent or empty, always), starts the server there on
// `target.port` and leaves it running, promoted; the SQL checks run over its socket as libpq's
// default user (PGUSER).
void postgres_target_component(const ComponentRun& run, ComponentResult& r, JobContext& ctx);

// The component's SQL checks against a running server (`conninfo` with each check's database),
// one CheckResult each: a query that fails is a failed check, not an error of the component.
void run_sql_checks(const std::vector<SqlCheck>& checks, const std::string& conninfo, ComponentResult& r);

}  // namespace arca::drill
