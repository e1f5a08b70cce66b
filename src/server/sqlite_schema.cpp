#include "server/sqlite_schema.h"

#include <array>
#include <string>

#include "util/error.h"

namespace arca::server::sqlite {
namespace {

// Migration i (0-based) brings the schema from version i to i+1. Times are unix seconds (REAL);
// enumerations are the lower-case names of job_model.h; JSON is stored as text.
constexpr std::array<const char*, 2> kMigrations{
    // 1: the first schema.
    R"sql(
CREATE TABLE plan_state (
  plan TEXT PRIMARY KEY,
  paused INTEGER NOT NULL DEFAULT 0,
  next_due REAL NOT NULL DEFAULT 0,
  last_scheduled REAL NOT NULL DEFAULT 0,
  config_hash TEXT NOT NULL DEFAULT '',
  updated_at REAL NOT NULL DEFAULT 0
);
CREATE TABLE jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  plan TEXT NOT NULL,
  kind TEXT NOT NULL,
  source TEXT NOT NULL DEFAULT '',
  repository TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,
  trigger TEXT NOT NULL DEFAULT '',
  scheduled_at REAL NOT NULL DEFAULT 0,
  created_at REAL NOT NULL DEFAULT 0,
  started_at REAL NOT NULL DEFAULT 0,
  finished_at REAL NOT NULL DEFAULT 0,
  start_deadline REAL NOT NULL DEFAULT 0,
  complete_deadline REAL NOT NULL DEFAULT 0,
  attempt INTEGER NOT NULL DEFAULT 1,
  retry_of INTEGER NOT NULL DEFAULT 0,
  owner TEXT NOT NULL DEFAULT '',
  lease_until REAL NOT NULL DEFAULT 0,
  reason TEXT NOT NULL DEFAULT '',
  warnings INTEGER NOT NULL DEFAULT 0,
  snapshot_id TEXT NOT NULL DEFAULT '',
  bytes_added INTEGER NOT NULL DEFAULT 0,
  result TEXT
);
CREATE INDEX jobs_plan_id ON jobs (plan, id);
CREATE INDEX jobs_plan_state_id ON jobs (plan, state, id);
CREATE INDEX jobs_state_id ON jobs (state, id);
CREATE INDEX jobs_source_id ON jobs (source, id);
CREATE INDEX jobs_repository_id ON jobs (repository, id);
CREATE INDEX jobs_finished_at ON jobs (finished_at);
CREATE TABLE job_events (
  job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  time REAL NOT NULL,
  level TEXT NOT NULL,
  code TEXT NOT NULL,
  message TEXT NOT NULL,
  fields TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;
CREATE TABLE recovery_points (
  repository TEXT NOT NULL,
  snapshot_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  source TEXT NOT NULL,
  host TEXT NOT NULL DEFAULT '',
  time REAL NOT NULL,
  data_time REAL NOT NULL,
  size INTEGER NOT NULL DEFAULT 0,
  partial INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (repository, snapshot_id)
) WITHOUT ROWID;
CREATE INDEX recovery_points_source_time ON recovery_points (source, time);
CREATE TABLE verifications (
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL DEFAULT 0,
  source TEXT NOT NULL,
  repository TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL,
  time REAL NOT NULL,
  ok INTEGER NOT NULL,
  duration_s REAL NOT NULL DEFAULT 0,
  detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX verifications_source_kind_time ON verifications (source, kind, time);
CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_at REAL NOT NULL,
  last_used_at REAL NOT NULL DEFAULT 0,
  revoked INTEGER NOT NULL DEFAULT 0
);
)sql",
    // 2: drill results, one row per component of a drill run.
    R"sql(
CREATE TABLE drill_results (
  drill_id TEXT NOT NULL,
  component TEXT NOT NULL,
  job_id INTEGER NOT NULL DEFAULT 0,
  drill TEXT NOT NULL,
  kind TEXT NOT NULL,
  source TEXT NOT NULL DEFAULT '',
  repository TEXT NOT NULL DEFAULT '',
  time REAL NOT NULL,
  rto_s REAL NOT NULL,
  rpo_s REAL,
  rto_objective_s INTEGER,
  rpo_objective_s INTEGER,
  rto_ok INTEGER,
  rpo_ok INTEGER,
  validated INTEGER NOT NULL,
  passed INTEGER NOT NULL,
  detail TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (drill_id, component)
) WITHOUT ROWID;
CREATE INDEX drill_results_component_time ON drill_results (drill, component, time);
)sql",
};

}  // namespace

int catalog_schema_version() { return static_cast<int>(kMigrations.size()); }

int user_version(Db& db) {
  Stmt st(db, "PRAGMA user_version");
  return st.step() ? static_cast<int>(st.int64(0)) : 0;
}

void migrate(Db& db) {
  Transaction tx(db);  // BEGIN IMMEDIATE: two servers opening one file migrate one after the other
  int from = user_version(db);
  int to = catalog_schema_version();
  if (from > to)
    throw Error(ErrorKind::FormatVersion, "catalog " + db.path() + " has schema version " + std::to_string(from) +
                                              ", newer than this arca knows (" + std::to_string(to) +
                                              "): run a newer arca, or move the file away and run "
                                              "`arca server catalog rebuild` (job history is then lost)");
  if (from == to) return;  // nothing written: the destructor's ROLLBACK ends the transaction
  for (int v = from; v < to; v++) db.exec(kMigrations[static_cast<size_t>(v)]);
  db.exec("PRAGMA user_version = " + std::to_string(to));
  tx.commit();
}

}  // namespace arca::server::sqlite
