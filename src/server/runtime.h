// Live facts the server learns while it runs and that are not jobs: the state of continuous
// streams and whether each repository answered its last access. Written by jobs, read by the
// metrics and the status API. Thread-safe; not persisted (a restart learns them again).
#pragma once
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ops/copy_status.h"
#include "server/catalog.h"
#include "util/job_context.h"

namespace arca::server {

struct StreamStatus {
  bool connected = false;
  double started_at = 0;
  double last_progress_at = 0;  // the last time data was made durable in the repository
  double caught_up_at = 0;      // the last time the stream had archived everything the source had
                                // (PostgreSQL: flushed LSN = the server's; Kafka: every partition's end)
  uint64_t bytes = 0;           // archived since started_at
  uint64_t lag_bytes = 0;       // the source is ahead of the archive by this much (when known)
  int restarts = 0;
  std::string last_error;
};

struct RepositoryStatus {
  bool reachable = true;
  double checked_at = 0;
  std::string error;
  uint64_t stored_bytes = 0;  // from the last job or probe that knew it (0: unknown)
  double stored_bytes_at = 0;
};

// One replica's replication (docs/replication.md, "In the server"), by its plan.
struct ReplicationStatus {
  std::string repository, replica, location;
  double last_attempt_at = 0;
  double last_success_at = 0;  // the last copy that ended without an error
  std::string last_error;      // of the last copy ("" when it succeeded)
  uint64_t copies = 0, failures = 0;                                   // since the server started
  uint64_t points_copied = 0, wal_objects_copied = 0, bytes_copied = 0;  // likewise
  std::optional<ops::ReplicaStatus> status;  // measured after the last successful copy
};

class Runtime {
 public:
  void update_stream(const std::string& source, const std::function<void(StreamStatus&)>& f);
  std::optional<StreamStatus> stream(const std::string& source) const;
  void update_repository(const std::string& repository, const std::function<void(RepositoryStatus&)>& f);
  std::optional<RepositoryStatus> repository(const std::string& repository) const;
  std::map<std::string, StreamStatus> streams() const;
  std::map<std::string, RepositoryStatus> repositories() const;
  // Changes to the catalog's index of recovery points that a running job (a continuous archive)
  // makes before it ends: a point written, or a repository's whole set after its retention.
  struct PointUpdate {
    std::string replace_repository;          // set: `points` is this repository's whole set
    std::vector<RecoveryPointRecord> points;  // else: points to add
  };
  void add_point(const RecoveryPointRecord& p);
  void replace_points(const std::string& repository, std::vector<RecoveryPointRecord> points);
  std::vector<PointUpdate> take_point_updates();  // in the order they happened

  void update_replication(const std::string& plan, const std::function<void(ReplicationStatus&)>& f);
  std::map<std::string, ReplicationStatus> replications() const;
  // Writers (backups, streams) say that a repository has something new; its replicators wait for
  // that, or `timeout_s`, or the cancel. `seen` carries what a replicator has seen across calls;
  // returns true if something new was written.
  void notify_written(const std::string& repository);
  bool wait_written(const std::string& repository, uint64_t& seen, double timeout_s, const CancelToken& cancel);

 private:
  mutable std::mutex mu_;
  std::map<std::string, StreamStatus> streams_;
  std::map<std::string, RepositoryStatus> repos_;
  std::vector<PointUpdate> point_updates_;
  std::map<std::string, ReplicationStatus> replications_;
  std::map<std::string, uint64_t> written_;  // by repository: how many writes were announced
  std::condition_variable written_cv_;
};

}  // namespace arca::server
