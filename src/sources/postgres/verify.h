// `arca pg verify`: the weekly restore test. Restores a base backup into a scratch directory,
// starts a private server on it (Unix socket only, in a directory only its owner can enter,
// trust authentication, no archiving), runs the integrity checks, stops it and cleans up.
//
// Built-in checks, per database: row counts against those recorded at backup time (see
// row_counts.h for the tolerance under concurrent writes), rows orphaned by each foreign key,
// NULLs in primary key columns, amcheck's B-tree checks where the extension is installed,
// and (after shutdown) pg_checksums when data checksums are on. The operator's own checks come
// from a file of SQL queries, each with an expectation (docs/postgres.md).
#pragma once
#include <string>
#include <vector>

#include "repo/repository.h"
#include "sources/postgres/cluster_restore.h"
#include "util/job_context.h"
#include "util/progress.h"

namespace arca {

struct PgVerifyOptions {
  std::string snapshot = "latest";  // a postgres snapshot (ref) or "latest"
  std::string source_name;          // with "latest": the newest of this source
  std::string scratch_parent;       // default: $TMPDIR or /tmp
  std::string checks_file;
  std::string pg_bin;
  std::string owner;      // user to run the scratch server as when root
  bool keep = false;      // leave the scratch directory (and print where)
  bool thorough = false;  // amcheck with heapallindexed
  int start_timeout = 1800;
  unsigned threads = 0;
  // Default: the base backup's own consistent point. Any other target (a time, LSN, …, or the
  // latest WAL) replays archived WAL through `restore_command`; the row counts recorded at
  // backup time then do not apply and are skipped.
  RecoveryTarget target = RecoveryTarget::of(RecoveryTarget::Kind::Immediate);
  std::string restore_command;
  const CancelToken* cancel = nullptr;  // null: not cancellable; cancelled: throws Error(Cancelled)
};

struct PgCheck {
  std::string name, database;
  bool passed = true;
  bool skipped = false;
  std::string detail;
};

struct PgVerifyResult {
  Snapshot snapshot;
  std::vector<PgCheck> checks;
  double restore_s = 0, start_s = 0, checks_s = 0;
  double recovery_point_age_s = 0;  // now - the time of the newest data the restore holds
  double newest_data_time = 0;      // that time (unix seconds): the last commit replayed, else the backup's end
  std::string scratch;              // kept only with `keep`
  bool passed() const;
};

PgVerifyResult pg_verify(Repository& repo, const PgVerifyOptions& opts, ProgressCounters& progress);

}  // namespace arca
