// `arca kafka backup`: a topic archive, one-shot or continuous (sources/kafka/kafka_backup.h), as
// one call.
#pragma once
#include <nlohmann/json.hpp>

#include "repo/repository.h"
#include "sources/kafka/kafka_backup.h"
#include "util/job_context.h"

namespace arca::ops {

using KafkaBackupRequest = KafkaBackupOptions;

struct KafkaBackupOpResult : KafkaBackupResult {
  nlohmann::json to_json() const;  // the newest point (with "short_id") and this run's counts
};

// ctx.cancel is how an archive is stopped (SIGINT/SIGTERM): the run ends normally, writing a
// recovery point of what it archived (a continuous archive's last one). Progress lines of a
// continuous run are info events "kafka.backup.progress".
KafkaBackupOpResult kafka_backup(Repository& repo, const KafkaBackupRequest& req, JobContext& ctx);

}  // namespace arca::ops
