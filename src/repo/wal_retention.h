// Retention for the WAL archive: WAL older than the oldest remaining base backup of a cluster
// can no longer be replayed from any recovery point, so `arca prune` removes it (segments,
// partial segments, backup history files and leftover pieces). Timeline history files are tiny
// and kept. A cluster with no base backup left keeps all its WAL: nothing says what is needed;
// and nothing is removed while any base backup lacks the metadata to say where its WAL starts.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "repo/object_names.h"
#include "repo/repository.h"

namespace arca {

struct WalPruneStats {
  uint64_t objects = 0, bytes = 0;  // removed (or, dry run, to remove)
  std::vector<std::string> notes;
};

// Where each cluster's WAL starts to matter: the first segment of its oldest base backup among
// `snapshots`, by system id (16 hex). `unknown` names a base backup that lacks the positions to
// say so; then no WAL is below any floor.
struct WalFloors {
  struct Floor {
    uint64_t segno = UINT64_MAX, segment_size = 0;
  };
  std::map<std::string, Floor> by_system;
  std::string unknown;
};
WalFloors wal_floors(const std::vector<Snapshot>& snapshots);
// True if `w` is a segment, partial segment, backup history file or piece below its cluster's
// floor: no recovery point among the floors' snapshots can replay it. History files never are.
bool below_wal_floor(const WalFloors& floors, const names::WalName& w);

WalPruneStats prune_wal_archive(Repository& repo, const std::vector<Snapshot>& snapshots, bool dry_run);

}  // namespace arca
