// `arca pg backup`: a physical base backup over PostgreSQL's replication protocol (libpq,
// BASE_BACKUP), streamed straight into the repository.
//
// Why the protocol and not pg_basebackup: the tar stream comes to Arca directly (no local copy,
// no second process, no tar on a pipe to re-parse from a child's stdout), one connection can
// first take a temporary replication slot that keeps the backup's WAL from being recycled and
// then run BASE_BACKUP with WAL included, and the server's own messages (checksum failures,
// missing WAL) arrive as notices and errors Arca can report precisely.
//
// Snapshot layout: the root tree holds `data/` (the data directory as the server sent it,
// including pg_wal/ with the WAL from start to stop, and backup_manifest) and
// `tablespaces/<oid>/` (each tablespace's contents); symlinks data/pg_tblspc/<oid> keep the
// original locations. Files are cut into fixed 64 KiB chunks (eight pages): a page changed
// since the last backup changes one chunk, so unchanged pages deduplicate.
#pragma once
#include <string>
#include <vector>

#include "repo/repository.h"
#include "util/job_context.h"
#include "util/progress.h"

namespace arca {

struct PgBackupOptions {
  std::string conninfo;  // libpq connection string or URI
  std::string name;      // source name (default: "postgres-<system id>")
  std::vector<std::string> tags;
  std::string host;  // default: this machine's name
  bool fast_checkpoint = true;
  bool row_counts = true;                 // count rows per table after the backup (for verify)
  uint64_t row_count_limit = 10'000'000;  // skip tables estimated larger than this
  size_t chunk_size = 64 * 1024;
  unsigned threads = 0;
  const CancelToken* cancel = nullptr;  // null: not cancellable; cancelled: throws Error(Cancelled)
};

Snapshot pg_base_backup(Repository& repo, const PgBackupOptions& opts, ProgressCounters& progress);

}  // namespace arca
