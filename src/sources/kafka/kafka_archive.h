// The Kafka archive inside a recovery point (docs/repository-format.md §11):
//
//   topics/<topic>/topic.json              partition count, replication factor, configuration
//   topics/<topic>/<partition>/index.json  segments with their blobs: offset and time ranges,
//                                          record counts, SHA-256 checksums; gaps; next offset
//   topics/<topic>/<partition>/<first offset, 20 digits>.seg   the records (record_codec.h)
//   groups.json                            committed offsets: group → topic → partition → offset
//
// Every recovery point holds the whole archive: segments already stored are referenced again
// (free, by content id), so the newest recovery point alone is enough to restore, and an
// archiver resumes from the next offsets it records.
#pragma once
#include <climits>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "repo/blob_writer.h"
#include "repo/repository.h"

namespace arca {

struct KafkaBlobEntry {
  Id id, sha256;
  int64_t first = 0, last = 0;  // offsets of its first and last record
  uint64_t records = 0, bytes = 0;
  int64_t min_ts = INT64_MAX, max_ts = INT64_MIN;
};

struct KafkaSegment {
  int64_t first = -1, last = -1;
  uint64_t records = 0, bytes = 0;
  int64_t min_ts = INT64_MAX, max_ts = INT64_MIN;
  std::vector<KafkaBlobEntry> blobs;
  std::string name() const;  // <first offset, 20 digits>.seg
  Id checksum() const;       // SHA-256 over the blobs' SHA-256s, in order
  void add(const KafkaBlobEntry& b);
};

struct KafkaGap {
  int64_t from = 0, to = 0;  // inclusive
  std::string reason;
};

// A Kafka timestamp (ms since the epoch, chosen by producers for CreateTime) in nanoseconds,
// saturated at the int64 limits instead of overflowing after 2262 (see docs/security.md, "Kafka records").
int64_t kafka_ms_to_ns(int64_t ms);

// Partition numbers above this in an archive are taken as damage (Kafka clusters hold far fewer).
constexpr int kMaxKafkaPartition = 1 << 20;

struct KafkaPartitionArchive {
  int partition = 0;
  int64_t next_offset = -1;  // the offset the archive continues from; -1: nothing archived yet
  uint64_t records = 0, bytes = 0;
  uint64_t absent = 0;                          // offsets the log did not hold (compaction, transaction markers)
  int64_t log_start = -1, high_watermark = -1;  // the cluster's, when last seen
  std::vector<KafkaSegment> segments;
  std::vector<KafkaGap> gaps;  // offsets lost before they could be archived (retention)
  nlohmann::json to_json() const;
  static KafkaPartitionArchive from_json(const nlohmann::json& j, const std::string& what);
};

struct KafkaTopicArchive {
  std::string name;
  int partitions = 0, replication_factor = 0;
  nlohmann::json config;      // name → value (settings made for the topic); null: unknown
  std::string config_error;   // why it is unknown
  std::string missing_since;  // the topic disappeared from the cluster at this time
  std::map<int, KafkaPartitionArchive> parts;
};

struct KafkaArchive {
  std::map<std::string, KafkaTopicArchive> topics;
  nlohmann::json groups = nlohmann::json::object();  // group → topic → partition → committed offset

  // The archive recorded in a recovery point (throws Error(Corrupt) naming a damaged file: its
  // JSON is checked for types and integer ranges, as a key holder may have written it).
  static KafkaArchive load(Repository& repo, const Snapshot& snap);
  // Stores the trees (and the small JSON files) through `writer`; returns the root tree id.
  Id store(Repository& repo, BlobWriter& writer) const;
  uint64_t records() const;
  uint64_t bytes() const;
};

}  // namespace arca
