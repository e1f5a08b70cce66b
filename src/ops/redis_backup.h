// `arca redis backup`: an RDB capture over the replication protocol (sources/redis/rdb_capture.h)
// as one call.
#pragma once
#include <functional>

#include <nlohmann/json.hpp>

#include "repo/repository.h"
#include "sources/redis/rdb_capture.h"
#include "util/job_context.h"

namespace arca::ops {

using RedisBackupRequest = RedisBackupOptions;  // its `cancel` is the job's

struct RedisBackupResult {
  Snapshot snapshot;
  nlohmann::json to_json() const;  // the saved point, with "short_id"
};

// `repo` is called once, when the server has started sending: a caller may open the repository
// (key derivation) meanwhile, while the server forks.
RedisBackupResult redis_backup(const std::function<Repository&()>& repo, const RedisBackupRequest& req,
                               JobContext& ctx);

}  // namespace arca::ops
