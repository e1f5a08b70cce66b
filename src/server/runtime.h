// Live facts the server learns while it runs and that are not jobs: the state of continuous
// streams and whether each repository answered its last access. Written by jobs, read by the
// metrics and the status API. Thread-safe; not persisted (a restart learns them again).
#pragma once
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "server/catalog.h"

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

 private:
  mutable std::mutex mu_;
  std::map<std::string, StreamStatus> streams_;
  std::map<std::string, RepositoryStatus> repos_;
  std::vector<PointUpdate> point_updates_;
};

}  // namespace arca::server
