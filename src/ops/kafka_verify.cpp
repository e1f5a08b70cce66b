#include "ops/kafka_verify.h"

namespace arca::ops {

nlohmann::json KafkaVerifyOpResult::to_json() const {
  nlohmann::json parts = nlohmann::json::array();
  for (const auto& p : partitions)
    parts.push_back({{"topic", p.topic},
                     {"partition", p.partition},
                     {"records", p.records},
                     {"segments", p.segments},
                     {"first_offset", p.first},
                     {"last_offset", p.last},
                     {"passed", p.passed},
                     {"problem", p.problem}});
  return {{"snapshot", snapshot.id.hex()}, {"passed", passed()}, {"records", records}, {"bytes", bytes},
          {"duration_s", duration_s},      {"partitions", parts}};
}

KafkaVerifyOpResult kafka_verify(Repository& repo, const KafkaVerifyRequest& req, JobContext& ctx) {
  KafkaVerifyOpResult r;
  static_cast<KafkaVerifyResult&>(r) = arca::kafka_verify(repo, req.snapshot, req.source, ctx.progress, &ctx.cancel);
  return r;
}

}  // namespace arca::ops
