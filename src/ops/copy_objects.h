// The part of `arca copy` that moves objects as they are (ObjectFamily::replication Raw): the
// WAL archive and drill records.
#pragma once
#include <functional>
#include <vector>

#include "ops/copy.h"

namespace arca::ops {

// Copies every object of the Raw families the replica lacks and wants, each authenticated here
// first; `replica_points` gives the points the replica holds after this run (its WAL starts at
// the first segment of its oldest base backup, as its own prune would keep it), asked only when
// there is WAL to copy. A whole segment replaces the pieces of it the replica held (best effort:
// the replica's prune removes them otherwise). Adds to `r` (dry run: counts only).
using ReplicaPoints = std::function<const std::vector<Snapshot>&()>;
void copy_raw_families(Repository& primary, Repository& replica, const ReplicaPoints& replica_points,
                       const CopyRequest& req, unsigned streams, JobContext& ctx, CopyResult& r);

}  // namespace arca::ops
