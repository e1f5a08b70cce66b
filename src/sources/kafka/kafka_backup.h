// `arca kafka backup`: archives every partition of the matching topics into the repository —
// records with key, value, headers, timestamp and its type, and offset — plus each topic's
// partition count and configuration and the committed offsets of consumer groups.
//
// Exactly once in the archive: the archiver assigns partitions itself (no consumer group) at the
// next offsets recorded in the newest recovery point of the source, so a restart, a broker
// failure or a crash resumes with no gap and no duplicate; a record at an offset already
// archived is dropped. Offsets the log does not hold are counted (compaction, transaction
// markers); offsets deleted by retention before they were archived are recorded as gaps.
//
// One-shot: archive up to the high watermarks seen at the start, then write one recovery point.
// Continuous: keep archiving, writing a recovery point every interval in which something changed.
// Run one archiver per source at a time: two would each continue from the same recovery point
// and write diverging ones.
#pragma once
#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "repo/repository.h"
#include "sources/kafka/kafka_client.h"
#include "util/job_context.h"
#include "util/progress.h"

namespace arca {

struct KafkaBackupOptions {
  KafkaOptions kafka;
  std::string topics = ".*";        // regular expression on topic names
  std::vector<std::string> groups;  // consumer groups by name
  std::string groups_regex;         // and by pattern (ListConsumerGroups)
  std::string name;                 // source name (default: kafka-<first broker>)
  std::vector<std::string> tags;
  std::string host;
  bool continuous = false;
  double interval_s = 10;               // continuous: seconds between recovery points
  std::string start = "earliest";       // a partition never archived before starts at: earliest | latest
  size_t blob_size = 1 << 20;           // records are grouped into blobs of about this size
  uint64_t segment_size = 64ull << 20;  // a partition's segment file is closed at this size
  int admin_timeout_ms = 3000;          // DescribeConfigs, ListConsumerGroups, committed offsets
  double stall_timeout_s = 60;          // one-shot: stop waiting for partitions that make no progress
  unsigned threads = 0;
  // Cancelled: throws Error(Cancelled) without writing a recovery point (points a continuous run
  // wrote before stay); the `stop` flag instead ends the run normally, with a recovery point.
  const CancelToken* cancel = nullptr;
  // Called after each recovery point is published (a server indexes a continuous archive's points
  // as they appear, so its live RPO does not wait for the run to end). May be null.
  std::function<void(const Snapshot&)> on_point;
};

struct KafkaBackupResult {
  std::vector<std::string> recovery_points;  // ids written
  Snapshot last;                             // the newest one
  uint64_t records = 0, bytes = 0;           // archived by this run
  uint64_t resumed_partitions = 0;           // partitions continued from an earlier recovery point
  bool partial = false;                      // one-shot: some partitions did not reach their target
  std::vector<std::string> warnings;
};

using KafkaLog = std::function<void(const std::string&)>;

KafkaBackupResult kafka_backup(Repository& repo, const KafkaBackupOptions& opts, ProgressCounters& progress,
                               const std::atomic<bool>& stop, const KafkaLog& log);

}  // namespace arca
