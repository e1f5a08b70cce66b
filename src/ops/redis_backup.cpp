#include "ops/redis_backup.h"

namespace arca::ops {

nlohmann::json RedisBackupResult::to_json() const {
  nlohmann::json j = snapshot.to_json();
  j["short_id"] = snapshot.id.short_hex();
  return j;
}

RedisBackupResult redis_backup(const std::function<Repository&()>& repo, const RedisBackupRequest& req,
                               JobContext& ctx) {
  RedisBackupOptions o = req;
  o.cancel = &ctx.cancel;
  RedisCaptureLink link = redis_start_capture(o);
  Repository& r = repo();
  return {redis_finish_capture(r, link, o, ctx.progress)};
}

}  // namespace arca::ops
