// `arca redis verify`: load a recovery point into a scratch redis-server and compare it with what
// was recorded (sources/redis/redis_verify.h), as one call.
#pragma once
#include <nlohmann/json.hpp>

#include "repo/repository.h"
#include "sources/redis/redis_verify.h"
#include "util/job_context.h"

namespace arca::ops {

using RedisVerifyRequest = RedisVerifyOptions;  // its `cancel` is the job's

struct RedisVerifyOpResult : RedisVerifyResult {
  double rto_s() const { return restore_s + load_s; }
  nlohmann::json to_json() const;  // redis verify --json
};

RedisVerifyOpResult redis_verify(Repository& repo, const RedisVerifyRequest& req, JobContext& ctx);

}  // namespace arca::ops
