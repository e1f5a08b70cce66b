// What the `arca pg …` commands share: the connection option and the restore_command that lets
// a restored server fetch WAL from the repository on its own.
#pragma once
#include <string>

#include "cli/common.h"
#include "sources/postgres/cluster_restore.h"

namespace arca {

// Adds -d/--conn (libpq connection string or URI; default from PG* environment variables).
void add_conn_option(CLI::App& cmd, std::string& conninfo);
// Recovery target options shared by `pg restore` and `pg verify`.
struct TargetArgs {
  std::string time, lsn, xid, name, target, action = "promote";
  bool exclusive = false;
};
void add_target_options(CLI::App& cmd, TargetArgs& t, bool with_action);
// Throws Error(Usage) for conflicting or malformed targets; `fallback` when none is given.
RecoveryTarget parse_target(const TargetArgs& a, RecoveryTarget::Kind fallback);

// `arca pg wal-fetch …"%f" "%p"` with this invocation's repository, credentials files and
// backend options, shell-quoted for PostgreSQL's restore_command. `note` gets a remark when the
// command only works with the current environment (credentials from ARCA_PASSWORD). `quiet`:
// no line in the server log for a segment not (yet) archived (a standby's normal state).
std::string wal_fetch_command(const GlobalOptions& g, const std::string& system_id, std::string& note,
                              bool quiet = false);

}  // namespace arca
