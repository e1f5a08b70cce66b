// `arca pg restore`: picks the base backup for a recovery target, restores it into a data
// directory (delta: an existing directory is updated in place, only differing chunks written),
// places tablespaces, writes the recovery settings, and optionally starts the server.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "repo/repository.h"
#include "restore/restore.h"
#include "util/job_context.h"
#include "util/progress.h"

namespace arca {

struct RecoveryTarget {
  enum class Kind { Latest, Immediate, Time, Lsn, Xid, Name } kind = Kind::Latest;
  std::string value;  // time (as PostgreSQL accepts it), LSN, xid or restore point name
  bool inclusive = true;
  std::string action = "promote";  // promote, pause, shutdown
  std::string describe() const;
  static RecoveryTarget of(Kind k, std::string v = {}) {
    RecoveryTarget t;
    t.kind = k;
    t.value = std::move(v);
    return t;
  }
};

struct PgRestoreOptions {
  std::string target_dir;
  std::optional<std::string> snapshot;  // explicit base backup; default: chosen for the target
  std::string source_name;              // limit the choice to this source (default: any postgres)
  RecoveryTarget target;
  bool delta = false;  // allow restoring into a non-empty directory
  // Tablespaces: each mapped, all under one directory, or the recorded locations confirmed;
  // never the recorded ones silently (see tablespace_map.h).
  std::map<std::string, std::string> tablespace_map;  // oid -> new location
  std::string tablespace_map_all;                     // the others go to <dir>/<oid>
  bool tablespace_map_all_original = false;           // the others go where the recovery point says
  // User to own the files when run as root (default: the owner of an existing target directory
  // if not root, else "postgres"; never the uid the point records, see cluster_safety.h).
  std::string owner;
  bool archive_off = false;     // the restored server must not archive WAL
  std::string restore_command;  // how the restored server fetches WAL ("" = none needed)
  // A warm standby: standby.signal, no recovery target (the target must be Latest), hot standby
  // on, so the started server keeps replaying archived WAL as it arrives until it is promoted.
  bool standby = false;
  unsigned threads = 0;
  const CancelToken* cancel = nullptr;  // null: not cancellable; cancelled: throws Error(Cancelled)
};

struct PgRestoreResult {
  Snapshot snapshot;
  uint64_t bytes = 0, bytes_written = 0, files = 0;
  double restore_s = 0;
  std::vector<std::string> warnings;
};

// Chooses the base backup for the target; throws Error(NotFound) naming what the repository covers.
Snapshot choose_base_backup(const Repository& repo, const PgRestoreOptions& opts);
PgRestoreResult pg_restore_cluster(Repository& repo, const PgRestoreOptions& opts, ProgressCounters& progress);
// The problems a files restore of `dir` reported, as one error: damaged data is the repository's
// (Corrupt, exit 12: check it), anything else the target's (Io, exit 1: the repository is not at
// fault). Returns when there are none.
void throw_restore_problems(const std::vector<RestoreProblem>& problems, const std::string& dir);
// Major version ("15") recorded with a base backup.
int backup_major_version(const Snapshot& s);
std::string snapshot_meta(const Snapshot& s, const std::string& key);  // "" if absent

}  // namespace arca
