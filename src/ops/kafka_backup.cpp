#include "ops/kafka_backup.h"

namespace arca::ops {

nlohmann::json KafkaBackupOpResult::to_json() const {
  nlohmann::json j = last.to_json();
  j["short_id"] = last.id.short_hex();
  j["recovery_points"] = recovery_points;
  j["records_this_run"] = records;
  j["bytes_this_run"] = bytes;
  j["resumed_partitions"] = resumed_partitions;
  return j;
}

KafkaBackupOpResult kafka_backup(Repository& repo, const KafkaBackupRequest& req, JobContext& ctx) {
  KafkaBackupOptions o = req;
  o.cancel = nullptr;  // a stop ends the run with a recovery point, it does not abandon it
  auto log = [&ctx](const std::string& m) { ctx.info("kafka.backup.progress", m); };
  KafkaBackupOpResult r;
  static_cast<KafkaBackupResult&>(r) = arca::kafka_backup(repo, o, ctx.progress, ctx.cancel.flag(), log);
  return r;
}

}  // namespace arca::ops
