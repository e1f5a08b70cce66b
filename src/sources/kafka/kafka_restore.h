// `arca kafka restore`: replays archived records into a topic (the same or another, on the same
// or another cluster) with an idempotent producer, keeping partition, key, value, headers and
// timestamp; creates a missing topic with the recorded partition count and configuration;
// returns the old → new offset map and commits consumer-group offsets translated through it.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "repo/repository.h"
#include "sources/kafka/kafka_client.h"
#include "util/job_context.h"
#include "util/progress.h"

namespace arca {

struct KafkaRestoreOptions {
  KafkaOptions kafka;  // the target cluster
  std::string snapshot = "latest", source;
  std::vector<std::string> topics;                  // archived topics to replay (default: all)
  std::string to_topic;                             // target name (one topic only)
  std::string topic_prefix;                         // or: prefix for every target name
  std::vector<int> partitions;                      // default: all
  int64_t from_offset = -1, to_offset = -1;         // inclusive; -1: open
  std::optional<int64_t> from_time_ms, to_time_ms;  // record timestamps, inclusive
  bool remap_partitions = false;                    // target has fewer partitions: partition p goes to p % n
  int replication_factor = -1;  // for created topics (-1: the recorded one, else the broker's default)
  bool restore_groups = true;
  std::vector<std::string> groups;      // default: every recorded group
  std::string group_prefix;             // committed under <prefix><group>
  const CancelToken* cancel = nullptr;  // null: not cancellable; cancelled: throws Error(Cancelled)
};

struct KafkaRestoreResult {
  uint64_t records = 0, bytes = 0;
  double duration_s = 0;
  // topic → {target, partitions: p → [[old_first, new_first, count, target_partition], …]}
  nlohmann::json offset_map = nlohmann::json::object();
  // group → topic → partition → {old, new}
  nlohmann::json groups = nlohmann::json::object();
  std::vector<std::string> created_topics;
  std::vector<std::string> warnings;
};

KafkaRestoreResult kafka_restore(Repository& repo, const KafkaRestoreOptions& opts, ProgressCounters& progress);

// The new offset for a group's committed offset `committed` on the source partition, by the
// offset map runs of that partition ([old_first, new_first, count, target_partition]);
// nullopt if nothing of the partition was restored.
std::optional<std::pair<int, int64_t>> translate_offset(const nlohmann::json& runs, int64_t committed);

}  // namespace arca
