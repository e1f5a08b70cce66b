#include "ops/kafka_restore.h"

namespace arca::ops {

nlohmann::json KafkaRestoreOpResult::to_json() const {
  return {{"records", records},       {"bytes", bytes},   {"duration_s", duration_s},
          {"offset_map", offset_map}, {"groups", groups}, {"created_topics", created_topics},
          {"warnings", warnings}};
}

KafkaRestoreOpResult kafka_restore(Repository& repo, const KafkaRestoreRequest& req, JobContext& ctx) {
  KafkaRestoreOptions o = req;
  o.cancel = &ctx.cancel;
  KafkaRestoreOpResult r;
  static_cast<KafkaRestoreResult&>(r) = arca::kafka_restore(repo, o, ctx.progress);
  return r;
}

}  // namespace arca::ops
