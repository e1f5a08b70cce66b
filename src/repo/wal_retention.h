// Retention for the WAL archive: WAL older than the oldest remaining base backup of a cluster
// can no longer be replayed from any recovery point, so `arca prune` removes it (segments,
// partial segments, backup history files and leftover pieces). Timeline history files are tiny
// and kept. A cluster with no base backup left keeps all its WAL: nothing says what is needed;
// and nothing is removed while any base backup lacks the metadata to say where its WAL starts.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "repo/repository.h"

namespace arca {

struct WalPruneStats {
  uint64_t objects = 0, bytes = 0;  // removed (or, dry run, to remove)
  std::vector<std::string> notes;
};

WalPruneStats prune_wal_archive(Repository& repo, const std::vector<Snapshot>& snapshots, bool dry_run);

}  // namespace arca
