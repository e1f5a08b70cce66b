// `arca redis restore`: a recovery point back as files (dump.rdb, the AOF directory), optionally
// with a redis-server started on them; or its keys loaded into a running server with RESTORE
// (the RDB is parsed from the repository; values travel in their stored encoding).
#pragma once
#include <functional>
#include <map>
#include <string>

#include "repo/repository.h"
#include "restore/restore.h"
#include "sources/redis/rdb_parser.h"
#include "sources/redis/redis_conn.h"
#include "util/job_context.h"
#include "util/progress.h"

namespace arca {

// A Redis recovery point: by id, or 'latest' (of `source`, when given).
Snapshot find_redis_snapshot(Repository& repo, const std::string& ref, const std::string& source);

struct RedisLoadOptions {
  std::string url;
  RedisTls tls;
  std::string match;     // glob on key names (Redis's KEYS syntax); empty = all
  int source_db = -1;    // only keys of this database; -1 = all
  bool replace = false;  // overwrite existing keys (else they are kept and counted)
  size_t pipeline = 512;
  const CancelToken* cancel = nullptr;  // null: not cancellable; cancelled: throws Error(Cancelled)
};

struct RedisLoadResult {
  uint64_t restored = 0, kept_existing = 0, filtered = 0, expired = 0;
  uint64_t rdb_bytes = 0;
  double duration_s = 0;
};

RedisLoadResult redis_load_into(Repository& repo, const Snapshot& snap, const RedisLoadOptions& opts,
                                ProgressCounters& progress);

// The recovery point's files (dump.rdb, appendonlydir/) into directory `to`. Refuses (Refused)
// to overwrite any of them that exists unless `force`: it may be a live server's data. Files
// stored without a time (a dump.rdb received from the server) get the point's time, not 1970.
RestoreResult redis_restore_files(Repository& repo, const Snapshot& snap, const std::string& to, bool force,
                                  ProgressCounters& progress, const CancelToken* cancel = nullptr);

// parse_rdb over the recovery point's dump.rdb, read from the repository; `tee` gets its bytes.
RdbSummary parse_snapshot_rdb(Repository& repo, const Snapshot& snap, const std::function<void(const RdbKey&)>& on_key,
                              bool want_values, const std::function<void(ByteView)>& tee = {});

// Recorded key counts: database number → keys.
std::map<uint32_t, uint64_t> recorded_key_counts(const Snapshot& snap);

}  // namespace arca
