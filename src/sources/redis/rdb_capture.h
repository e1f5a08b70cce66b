// `arca redis backup`: a consistent RDB snapshot captured over Redis's replication protocol (as
// `redis-cli --rdb` does: REPLCONF, PSYNC ? -1, the full-resync payload), streamed straight into
// the repository, parsed on the way to count keys and check the RDB's own checksum; optionally
// the AOF files of a data directory next to it.
//
// Snapshot layout: `dump.rdb` (content-defined chunks, so an unchanged part of the keyspace
// deduplicates against the previous capture) and, with --aof-dir, `appendonlydir/` (Redis 7's
// multi-part AOF: manifest, base and incremental files) or `appendonly.aof` (Redis < 7).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "repo/repository.h"
#include "sources/redis/redis_conn.h"
#include "util/job_context.h"
#include "util/progress.h"

namespace arca {

struct RedisBackupOptions {
  std::string url;
  RedisTls tls;
  std::string name;  // source name (default: redis-<host>-<port>)
  std::vector<std::string> tags;
  std::string host;
  std::string aof_dir;  // an appendonlydir/, a data directory holding one, or an appendonly.aof file
  int timeout_s = 60;   // no byte from the server for this long fails the capture
  unsigned threads = 0;
  const CancelToken* cancel = nullptr;  // null: not cancellable; cancelled: throws Error(Cancelled)
};

// A replication link on which the primary has started producing the snapshot. Split from the
// capture so that the caller can open the repository (key derivation) while the server forks.
struct RedisCaptureLink {
  RedisUrl url;
  std::unique_ptr<RedisConn> conn;
  std::string start_time, server_version, replication_id;
  uint64_t replication_offset = 0, expected_keys = 0;
  double started_s = 0;  // steady clock, for the duration
};

RedisCaptureLink redis_start_capture(const RedisBackupOptions& opts);
Snapshot redis_finish_capture(Repository& repo, RedisCaptureLink& link, const RedisBackupOptions& opts,
                              ProgressCounters& progress);

}  // namespace arca
