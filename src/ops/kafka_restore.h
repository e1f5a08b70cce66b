// `arca kafka restore`: replay archived records and translate consumer-group offsets
// (sources/kafka/kafka_restore.h), as one call.
#pragma once
#include <nlohmann/json.hpp>

#include "repo/repository.h"
#include "sources/kafka/kafka_restore.h"
#include "util/job_context.h"

namespace arca::ops {

using KafkaRestoreRequest = KafkaRestoreOptions;  // its `cancel` is the job's

struct KafkaRestoreOpResult : KafkaRestoreResult {
  nlohmann::json to_json() const;  // kafka restore --json
};

KafkaRestoreOpResult kafka_restore(Repository& repo, const KafkaRestoreRequest& req, JobContext& ctx);

}  // namespace arca::ops
