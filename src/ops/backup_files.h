// `arca backup`: a file-tree backup as one call. Reads the path and exclude lists, runs the
// backup (sources/files/backup.h) with the job's cancel token and progress counters, and counts
// the totals alongside for the progress ETA when asked.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "repo/repository.h"
#include "util/job_context.h"

namespace arca::ops {

struct BackupFilesRequest {
  std::vector<std::string> paths;
  std::vector<std::string> files_from;  // files listing more paths, one a line ('#' comments)
  std::vector<std::string> tags;
  std::string host;                                        // to record (default: this machine's name)
  std::vector<std::string> excludes, iexcludes;            // glob patterns (iexcludes: ignoring case)
  std::vector<std::string> exclude_files, iexclude_files;  // files listing such patterns
  bool one_file_system = false;
  std::optional<std::string> parent;  // default: the newest point of the same host and paths
  bool force_reread = false;
  bool dry_run = false;
  unsigned threads = 0;
  bool count_totals = false;  // count files and bytes alongside (progress ETA); costs a second walk
};

struct BackupFilesResult {
  Snapshot snapshot;  // dry run: not saved, no id; its stats say what would be stored
  bool dry_run = false;
  std::vector<SnapshotWarning> outcome_warnings;  // the warnings that made the point partial
  bool partial() const { return snapshot.partial; }
  // backup --json: the saved point (with "short_id"), or for a dry run what it would store.
  nlohmann::json to_json() const;
};

// Throws Error(Cancelled) when ctx.cancel is set before the point is published (nothing is).
BackupFilesResult backup_files(Repository& repo, const BackupFilesRequest& req, JobContext& ctx);

}  // namespace arca::ops
