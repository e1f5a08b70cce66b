// Restores a file-tree snapshot (or selected paths) into a target directory.
//
// Safe: names from the repository are single path components (checked when trees are decoded);
// every path is opened below the target without following any symlink (openat2 with
// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), and metadata is applied through descriptors opened
// with O_NOFOLLOW, so nothing can be written or changed outside the target, even if entries are
// swapped for symlinks while the restore runs. Delta: an existing file is compared chunk by chunk (keyed
// hashes) and only differing chunks are written, into a copy (a clone where the filesystem can)
// that replaces it when complete. New files, and those copies, are written under a temporary
// name (".arca-restore.*") in their directory and renamed when complete, so an interrupted or
// damaged restore never leaves a wrong or half-updated file under a real name. Runs of zeros
// become holes (see holes.h). Parallel: chunks of all files, large ones
// included, are restored by a pool of threads; metadata is applied last, deepest first.
#pragma once
#include <atomic>
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
  bool no_sparse = false;                     // write runs of zeros as data, no holes (a swap file must have none)
  unsigned threads = 0;                       // 0 = 2 × cores
  const std::atomic<bool>* cancel = nullptr;  // set (by a signal handler): stop cleanly
};

// Whose fault a problem is: the repository's data (damage, missing blobs) or the target
// (permissions, a read-only or full filesystem, a name clash). They need different remedies.
enum class RestoreProblemSource { Repository, Target };

struct RestoreProblem {
  std::string path, message;
  RestoreProblemSource source = RestoreProblemSource::Target;
};

struct RestoreResult {
  // Restored completely (a dry run: would be restored). Damaged or unfinished files are not counted.
  uint64_t files = 0, dirs = 0, symlinks = 0, hardlinks = 0;
  uint64_t specials = 0;         // FIFOs, sockets, device nodes
  uint64_t bytes = 0;            // logical size of restored files
  uint64_t bytes_written = 0;    // bytes actually written (a dry run: would be written)
  uint64_t files_new = 0;        // files that did not exist in the target
  uint64_t files_replaced = 0;   // existing files (or other entries) whose content changed
  uint64_t files_unchanged = 0;  // existing files that already matched
  uint64_t files_verified = 0;
  // Entries of another kind replaced ("path (file, by a dir)"), also counted in files_replaced.
  std::vector<std::string> replaced_paths;
  std::vector<std::string> deleted_paths;
  std::vector<std::string>
      stale_tmp_removed;  // temporary files left by a killed restore, removed  // removed by delete_extra (or, in a dry run, would be)
  std::vector<RestoreProblem> errors;           // what could not be restored, and why (see source)
  std::vector<std::string> damaged;             // files not restored because the repository's data is damaged
  std::vector<RestoreProblem> warnings;         // metadata that could not be applied
  std::vector<std::string> unmatched_includes;  // --include patterns that matched nothing
  std::vector<std::string> unmatched_excludes;  // --exclude patterns that left nothing out (a warning)
  bool no_space = false;                        // stopped because the target filesystem is full
  bool interrupted = false;                     // stopped by opts.cancel
  uint64_t unfinished_removed = 0;              // new files left incomplete by a stop, removed
  double duration_s = 0;
};

// A pattern with a leading '/' names a path as it was on the backed-up machine (restic's habit):
// mapped to the tree path through the snapshot's paths ('/home/alice/src' → 'alice/src' for a
// point of /home/alice; a point of '/' has the entries of '/' at the top). Other patterns are
// returned as they are. Throws Error(Usage) naming `what` when no path of the point holds it.
std::string tree_pattern(const Snapshot& snap, const std::string& pattern, const std::string& what);

RestoreResult restore_files(Repository& repo, const Snapshot& snap, const RestoreOptions& opts,
                            ProgressCounters& progress);

}  // namespace arca
