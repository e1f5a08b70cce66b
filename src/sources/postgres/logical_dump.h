// `arca pg dump` / `arca pg restore-logical`: logical exports of chosen databases, schemas or
// tables (the spec's --export-only), made by the server's own pg_dump and streamed into the
// repository without a local copy.
//
// pg_dump runs in its custom format without compression (-Fc -Z0): Arca compresses and
// encrypts, and uncompressed dumps deduplicate against the previous export with
// content-defined chunks. Each database is one file `<database>.dump` in the snapshot, which
// pg_restore reads directly (restore-logical streams it into pg_restore, or to stdout).
#pragma once
#include <string>
#include <vector>

#include "repo/repository.h"
#include "util/job_context.h"
#include "util/progress.h"

namespace arca {

struct PgDumpOptions {
  std::string conninfo;
  std::vector<std::string> databases;                        // empty: every database that accepts connections
  std::vector<std::string> schemas, tables, exclude_tables;  // passed to pg_dump -n / -t / -T
  std::string name;                                          // source name (default: "postgres-dump")
  std::string host;                                          // host to record (default: this machine's name)
  std::vector<std::string> tags;
  std::string pg_bin;
  const CancelToken* cancel = nullptr;  // null: not cancellable; cancelled: throws Error(Cancelled)
};

Snapshot pg_dump_to_repo(Repository& repo, const PgDumpOptions& opts, ProgressCounters& progress);

struct PgRestoreLogicalOptions {
  std::string snapshot;
  std::string database;    // which dump (default: the only one)
  std::string conninfo;    // restore into this database with pg_restore
  bool to_stdout = false;  // write the dump to stdout instead
  bool clean = false, create = false, single_transaction = true;
  std::vector<std::string> tables;  // pg_restore -t
  std::string pg_bin;
  const CancelToken* cancel = nullptr;  // null: not cancellable; cancelled: throws Error(Cancelled)
};

// Returns the number of bytes streamed.
uint64_t pg_restore_logical(Repository& repo, const PgRestoreLogicalOptions& opts);

}  // namespace arca
