// Restores a file-tree snapshot (or selected paths) into a target directory.
//
// Safe: names from the repository are single path components (checked when trees are decoded);
// every path is opened below the target without following any symlink (openat2 with
// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), and metadata is applied through descriptors opened
// with O_NOFOLLOW, so nothing can be written or changed outside the target, even if entries are
// swapped for symlinks while the restore runs. Delta: an existing file is compared chunk by chunk (keyed
// hashes) and only differing chunks are written. Parallel: chunks of all files, large ones
// included, are restored by a pool of threads; metadata is applied last, deepest first.
#pragma once
#include <string>
#include <vector>

#include "repo/repository.h"
#include "util/progress.h"

namespace arca {

struct RestoreOptions {
  std::string target;
  std::vector<std::string> includes;  // empty = everything
  std::vector<std::string> excludes;
  bool delete_extra = false;  // remove target entries the snapshot does not have (restored dirs only)
  bool verify = false;
  bool dry_run = false;
  unsigned threads = 0;  // 0 = 2 × cores
};

struct RestoreProblem {
  std::string path, message;
};

struct RestoreResult {
  uint64_t files = 0, dirs = 0, symlinks = 0, hardlinks = 0;
  uint64_t bytes = 0;            // logical size of restored files
  uint64_t bytes_written = 0;    // bytes actually written (delta restore writes less)
  uint64_t files_unchanged = 0;  // existing files that already matched
  uint64_t files_verified = 0;
  std::vector<std::string> deleted_paths;  // removed by delete_extra (or, in a dry run, would be)
  std::vector<RestoreProblem> errors;    // content that could not be restored (corrupt/missing data)
  std::vector<RestoreProblem> warnings;  // metadata that could not be applied
  bool no_space = false;         // stopped because the target filesystem is full
  double duration_s = 0;
};

RestoreResult restore_files(Repository& repo, const Snapshot& snap, const RestoreOptions& opts,
                            ProgressCounters& progress);

}  // namespace arca
