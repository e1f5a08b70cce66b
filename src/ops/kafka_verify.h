// `arca kafka verify`: check every archived segment against what was recorded at backup time
// (sources/kafka/kafka_verify.h), as one call.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "repo/repository.h"
#include "sources/kafka/kafka_verify.h"
#include "util/job_context.h"

namespace arca::ops {

struct KafkaVerifyRequest {
  std::string snapshot = "latest";
  std::string source;  // with 'latest': the newest point of this source name
};

struct KafkaVerifyOpResult : KafkaVerifyResult {
  nlohmann::json to_json() const;  // kafka verify --json
};

KafkaVerifyOpResult kafka_verify(Repository& repo, const KafkaVerifyRequest& req, JobContext& ctx);

}  // namespace arca::ops
