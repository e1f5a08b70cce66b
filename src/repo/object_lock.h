// Store-enforced locks: when a recovery point is locked, every object it needs (its snapshot,
// the lock itself, the packs holding its blobs, the index files naming those packs, config and
// data keys) gets the matching S3 Object Lock retention or legal hold, so the store refuses to
// delete those object versions even for credentials that could. Key files are not locked: a
// compromised password's key file must stay removable.
#pragma once
#include <string>

#include "repo/locks.h"
#include "repo/repository.h"

namespace arca {

struct StoreLockResult {
  uint64_t objects = 0;  // objects locked by the store
  std::string note;      // why nothing was locked (auto mode)
};

// `required`: fail when the store cannot lock; otherwise return a note.
StoreLockResult apply_store_lock(Repository& repo, const Snapshot& snap, const SnapshotLock& lock, bool required);

}  // namespace arca
