// Garbage collection (`arca prune`, docs/repository-format.md §13). Safe while backups run:
//  1. a run marks packs no recovery point needs (and repacks mostly-unused ones, then marks the
//     originals) in a prune mark; backups that start later do not deduplicate against them;
//  2. a later run, once the grace period is over, deletes a marked pack only if it is still
//     unneeded — a backup that started before the mark and reused it has finished by then and
//     its recovery point is seen, which rescues the pack.
// Index files are rewritten before packs are deleted, so no index ever names a missing pack; an
// interrupted run leaves at most unindexed packs and stale marks, which the next run finishes.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "repo/locks.h"
#include "repo/repository.h"
#include "repo/writer_sessions.h"
#include "util/job_context.h"
#include "util/progress.h"

namespace arca {

struct PruneOptions {
  int64_t grace_s = 24 * 3600;  // 0: delete at once (only when no backup can be running)
  double max_unused = 0.25;     // repack a pack when at least this share of its bytes is unused
  bool dry_run = false;
  // Active locks: their recovery points' packs are never repacked, and index files this prune
  // writes that name such packs get the store's Object Lock too (the strongest mode and latest
  // date among the locks, and a legal hold if any lock is one), like the files they replace.
  std::vector<SnapshotLock> locks;
  unsigned threads = 0;  // 0: cores or the backend's parallelism, whichever is larger
  // Cancelled: stops at the next point where the repository is consistent (see above) and
  // throws Error(Cancelled); the next run finishes the work.
  const CancelToken* cancel = nullptr;
};

// A pack kept as it is (not repacked, not deleted) because blobs recovery points need failed
// authentication in it; `affected` names what depends on them ("snapshot 1a2b3c4d file 'x'").
struct PruneDamage {
  std::string pack;
  std::vector<Id> blobs;
  std::vector<std::string> affected;
};

struct PruneStats {
  uint64_t snapshots = 0, trees = 0, packs = 0, blobs = 0, referenced_blobs = 0;
  uint64_t index_files_read = 0, index_files_written = 0;
  uint64_t marked_packs = 0, marked_bytes = 0;  // newly marked by this run
  uint64_t repacked_packs = 0, copied_blobs = 0, copied_bytes = 0;
  uint64_t deleted_packs = 0, deleted_bytes = 0;             // removed by this run
  uint64_t waiting_packs = 0, waiting_bytes = 0;             // marked, grace period not over
  uint64_t rescued_packs = 0;                                // marked earlier, needed again: kept
  uint64_t unindexed_packs = 0;                              // stored but in no index (interrupted writers)
  uint64_t stored_bytes_before = 0, stored_bytes_after = 0;  // packs only
  std::vector<std::string> notes;
  std::vector<PruneDamage> damaged;  // the run went on without these packs; the command exits 12
};

// Throws Error(Corrupt) (having deleted nothing) if any snapshot, tree or index file is damaged
// or a needed blob is missing: garbage collection on a partial view would destroy data.
PruneStats prune_repository(Repository& repo, const PruneOptions& opts, ProgressCounters& progress);

// Who holds the prune lock (name, host, domain, pid, started); nullopt if nobody. An unreadable
// lock is reported as damaged.
std::optional<WriterRecord> prune_lock_holder(const Repository& repo);

// Guards against two prunes at once (they would rewrite each other's index files). Held as the
// object prune/running; a stale one (its process gone) on this host is taken over. An exclusive
// one (`--grace 0`, which deletes at once) also keeps backups from starting, and is refused
// (Error Refused) while a backup is registered (repo/writer_sessions.h).
class PruneLock {
 public:
  explicit PruneLock(Repository& repo, bool exclusive = false);
  ~PruneLock();
  PruneLock(const PruneLock&) = delete;
  PruneLock& operator=(const PruneLock&) = delete;
  static void force_remove(Repository& repo);

 private:
  void refuse_if_writing();
  void release() noexcept;
  Repository& repo_;
};

}  // namespace arca
