#include "ops/redis_verify.h"

namespace arca::ops {

nlohmann::json RedisVerifyOpResult::to_json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& c : checks)
    list.push_back({{"name", c.name}, {"status", c.passed ? "passed" : "failed"}, {"detail", c.detail}});
  return {{"snapshot", snapshot.id.hex()},
          {"source", snapshot.source_name},
          {"passed", passed()},
          {"restore_s", restore_s},
          {"load_s", load_s},
          {"rto_sample_s", rto_s()},
          {"checks_s", checks_s},
          {"keys_loaded", keys_loaded},
          {"recovery_point_age_s", recovery_point_age_s},
          {"checks", list},
          {"scratch", scratch.empty() ? nlohmann::json() : nlohmann::json(scratch)}};
}

RedisVerifyOpResult redis_verify(Repository& repo, const RedisVerifyRequest& req, JobContext& ctx) {
  RedisVerifyOptions o = req;
  o.cancel = &ctx.cancel;
  RedisVerifyOpResult r;
  static_cast<RedisVerifyResult&>(r) = arca::redis_verify(repo, o, ctx.progress);
  return r;
}

}  // namespace arca::ops
