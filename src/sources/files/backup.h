// File-tree backup: walks the given paths, reuses unchanged files from the parent snapshot,
// chunks changed files and stores them through a BlobWriter, then saves a snapshot.
//
// Pipeline: the calling thread walks and reads files and cuts chunks (cheap); worker threads
// compute ids, compress, encrypt and pack (expensive); a BlobWriter thread uploads packs.
// Bounded queues between stages keep memory bounded whatever the data size. A directory's
// tree is stored when its last entry is done, by whichever thread finishes it.
#pragma once
#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "repo/repository.h"
#include "sources/files/exclude.h"
#include "util/job_context.h"
#include "util/progress.h"

namespace arca {

struct BackupOptions {
  std::vector<std::string> paths;
  std::vector<std::string> tags;
  std::string host;  // defaults to this machine's name
  ExcludeMatcher excludes;
  bool one_file_system = false;
  std::optional<std::string> parent;  // snapshot ref; default: latest with same host+paths
  bool force_reread = false;          // ignore the parent: read every file
  unsigned threads = 0;               // 0 = number of cores
  // Reads and chunks everything but writes nothing: the returned snapshot (not saved, no id)
  // says what would be stored; stats.bytes_added/blobs_added estimate the new data.
  bool dry_run = false;
  // Set (by a signal handler) to stop: the backup throws before publishing anything.
  const std::atomic<bool>* stop = nullptr;
  // Cancelled: the backup throws Error(Cancelled) within a second, having published nothing.
  const CancelToken* cancel = nullptr;
};

// What a caller needs besides the snapshot.
struct BackupReport {
  std::vector<SnapshotWarning> outcome_warnings;  // the warnings that made the point partial
};

// Runs the backup and saves the snapshot (only after every object it needs is durable).
Snapshot backup_files(Repository& repo, const BackupOptions& opts, ProgressCounters& progress,
                      BackupReport* report = nullptr);

// Counts files and bytes under the paths (for progress ETA); runs alongside the backup.
void scan_totals(const BackupOptions& opts, ProgressCounters& progress);

// Where a backed-up absolute path is in the snapshot: its last component at the top level
// ("/home/alice" → "alice", so a restore to DIR gives DIR/alice/…), or "" for "/", whose
// entries are the top level themselves (a restore to DIR gives DIR/etc/…).
std::string snapshot_top_name(const std::string& abs_path);

// Makes each path absolute and normalized; throws Error(Usage) on two paths with the same top
// name, and on '/' with other paths.
std::vector<std::string> normalize_paths(const std::vector<std::string>& paths);

}  // namespace arca
