// `arca restore`: a file-tree recovery point (or chosen paths) into a directory. The engine is
// restore/restore.h; this call resolves the point, runs it with the job's progress and cancel
// token, and judges the result (restore/restore_outcome.h).
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "repo/repository.h"
#include "repo/snapshot_filter.h"
#include "restore/restore.h"
#include "restore/restore_outcome.h"
#include "util/job_context.h"

namespace arca::ops {

struct RestoreFilesRequest {
  std::string snapshot = "latest";  // id, unique prefix, or 'latest' (the newest `filter` matches)
  SnapshotFilter filter;
  RestoreOptions options;  // options.cancel is the job's: set by the call
};

struct RestoreFilesResult {
  Snapshot snapshot;
  RestoreOptions options;  // as run (target, dry run, verify, --delete)
  RestoreResult files;
  // A cancelled restore returns (outcome Interrupted) rather than throwing: its report says what
  // it had written and which unfinished files it removed.
  RestoreVerdict verdict;
  int exit_code() const;
  nlohmann::json to_json() const;  // restore --json
};

// Throws Error(NotFound/Usage) when the point cannot be resolved, before anything is written.
Snapshot resolve_restore_point(const Repository& repo, const RestoreFilesRequest& req);
// Restores `snap` (from resolve_restore_point: a caller warns about a partial point first).
RestoreFilesResult restore_files(Repository& repo, const Snapshot& snap, const RestoreFilesRequest& req,
                                 JobContext& ctx);

}  // namespace arca::ops
