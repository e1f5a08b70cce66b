// `arca repair index`: rebuilds the index from the packs' own headers (restic's `repair index`).
// Each pack's header lists its blobs, so the index can always be made again from the packs: new
// index files are saved first, then the old ones (damaged or not) are removed.
#pragma once
#include <set>
#include <string>
#include <vector>

#include "repo/repository.h"
#include "util/progress.h"

namespace arca {

struct RepairIndexOptions {
  bool dry_run = false;
  unsigned threads = 0;  // 0: automatic
  // Data key versions the operator declared lost for good: index objects and packs sealed with
  // them are dropped. Any other version whose keyring entry is missing or damaged stops the
  // repair before it changes anything (dropping their index objects would make recoverable
  // packs look unused to prune).
  std::set<uint32_t> lost_key_versions;
};

struct RepairIndexResult {
  uint64_t packs = 0;        // packs in the new index
  uint64_t blobs = 0;        // blobs in the new index
  uint64_t packs_added = 0;  // packs no intact old index file listed
  uint64_t index_files_written = 0;
  std::vector<std::string> damaged_index;     // damaged old index objects (with the reason)
  std::vector<std::string> removed;           // old index objects removed
  std::vector<std::string> remove_failed;     // old index objects that could not be removed (with the reason)
  std::vector<std::string> unreadable_packs;  // packs whose header could not be read and no old index listed
  std::vector<std::string> kept_from_old;     // packs with an unreadable header, kept as the old index listed them
  uint64_t missing_packs = 0;                 // packs old index files listed that are not stored (dropped)
  bool complete() const { return remove_failed.empty() && unreadable_packs.empty(); }
};

// Refuses (Error Refused) with an append-only key, which cannot remove the old index objects,
// and while a prune runs; throws KeyVersionUnavailable (nothing changed) as described above.
RepairIndexResult repair_index(Repository& repo, const RepairIndexOptions& opts, ProgressCounters& progress);

}  // namespace arca
