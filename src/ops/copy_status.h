// `arca copy status --to DEST`: how far a replica is behind, per component (docs/replication.md,
// "Lag"). Read-only on both repositories.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "repo/repository.h"
#include "util/job_context.h"

namespace arca::ops {

struct ReplicaComponent {
  std::string kind, source, host;
  std::optional<Snapshot> primary_newest, replica_newest;
  uint64_t pending_points = 0;  // on the primary, not on the replica (and not removed there)
  // The newest data each side can restore, as Unix time: PostgreSQL the newest commit in the
  // archived WAL replayable from the newest base backup, Kafka the newest record archived, the
  // others the point's time. 0: none.
  double primary_data_unix = 0, replica_data_unix = 0;
  std::string data_note;  // how the times were found, or why not
  // Replication lag: what the primary can restore and the replica cannot, in seconds (0 when
  // caught up). When the replica holds nothing of the component: since the primary's oldest
  // point of it (everything the primary has had since then is missing there).
  double lag_s = 0;
  // The DR site's recovery point right now: now minus the replica's newest data (nullopt: none).
  std::optional<double> rpo_s;
};

struct ReplicaStatus {
  std::string replica;
  double checked_unix = 0;
  std::vector<ReplicaComponent> components;
  uint64_t pending_points = 0, pending_wal_objects = 0, pending_wal_bytes = 0, pending_drill_records = 0;
  double max_lag_s() const;  // of any component (0: none)
  nlohmann::json to_json() const;
};

// A repository's recovery points read once each: a long-lived caller (the server's replicator)
// lists their names every time and reads only the new ones (snapshot objects never change).
class SnapshotCache {
 public:
  // Sorted by time; damaged ones left out (check reports them).
  std::vector<Snapshot> list(const Repository& repo, const CancelToken* cancel = nullptr);

 private:
  std::map<Id, Snapshot> by_id_;
};

// `cancel` (if set) is checked between components and reads; the caches (if given) keep the
// points read for the next call.
ReplicaStatus replica_status(Repository& primary, Repository& replica, const CancelToken* cancel = nullptr,
                             SnapshotCache* primary_points = nullptr, SnapshotCache* replica_points = nullptr);

}  // namespace arca::ops
