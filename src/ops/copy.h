// `arca copy --to DEST`: brings recovery points, the WAL archive and drill records of this
// repository to a replica made by `arca init --like` (docs/replication.md). A point appears on
// the replica only after every blob it needs is stored, verified and indexed there; copying is
// idempotent and resumable (a re-run copies only what is missing), two copies at once cannot
// damage the replica, and a point the replica's own retention removed is not copied again.
#pragma once
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "repo/repository.h"
#include "util/job_context.h"

namespace arca::ops {

class SnapshotCache;  // ops/copy_status.h

struct CopyRequest {
  // Points to copy (ids, unique prefixes, "latest"); empty: every point the replica has not
  // received yet. A named point is copied even if the replica's retention removed it before.
  std::vector<std::string> snapshots;
  bool dry_run = false;
  unsigned streams = 0;  // packs and objects transferred at once; 0: the stores' parallelism (at least 2)
  bool wal = true;       // the WAL archive (from the oldest base backup on the replica on)
  bool drills = true;    // drill records
  std::set<Id> skip;     // points not to try (a replicator's recently damaged ones)
  SnapshotCache* replica_points = nullptr;  // a long-lived caller's cache of the replica's points
};

struct CopyResult {
  std::string replica;                // its location
  std::vector<Snapshot> copied;       // points copied (dry run: to copy), in time order
  uint64_t present = 0;               // points the replica holds already
  uint64_t removed_there = 0;         // points the replica received once and its retention removed
  uint64_t blobs = 0, blob_bytes = 0;  // blobs copied (plaintext bytes)
  uint64_t reused_blobs = 0;          // blobs the copied points need that the replica had
  uint64_t stored_bytes = 0;          // written to the replica's packs and index
  uint64_t wal_objects = 0, wal_bytes = 0;
  uint64_t drill_records = 0;
  uint64_t keyring_entries = 0, key_files = 0;
  uint64_t fallbacks = 0;  // blobs whose first copy in this repository was damaged, read from another
  // Points and objects (WAL, drill records) that could not be read intact here, so were not
  // copied: the copy finished without them (exit 3). `damaged_points` names those points.
  std::vector<std::string> damaged;
  std::vector<Id> damaged_points;
  double seconds = 0;
  bool dry_run = false;
  nlohmann::json to_json() const;
};

// Copies from `primary` to `replica` (Repository::open_replica). Throws Error(Cancelled) when
// cancelled: what was copied stays, nothing half-copied is visible as a point.
CopyResult copy_to_replica(Repository& primary, Repository& replica, const CopyRequest& req, JobContext& ctx);

}  // namespace arca::ops
