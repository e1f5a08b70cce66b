// `arca kafka verify`: reads every segment of a recovery point's archive and checks it against
// what was recorded at backup time: each blob's SHA-256, each record decodes, offsets rise within
// the recorded ranges, record counts and timestamps per blob, segment and partition. A damaged
// segment is named.
#pragma once
#include <string>
#include <vector>

#include "repo/repository.h"
#include "util/job_context.h"
#include "util/progress.h"

namespace arca {

struct KafkaVerifyPartition {
  std::string topic;
  int partition = 0;
  uint64_t records = 0, segments = 0, bytes = 0;
  int64_t first = -1, last = -1;
  bool passed = true;
  std::string problem;  // the first one found
};

struct KafkaVerifyResult {
  Snapshot snapshot;
  std::vector<KafkaVerifyPartition> partitions;
  uint64_t records = 0, bytes = 0;
  double duration_s = 0;
  bool passed() const;
};

KafkaVerifyResult kafka_verify(Repository& repo, const std::string& snapshot, const std::string& source,
                               ProgressCounters& progress, const CancelToken* cancel = nullptr);

}  // namespace arca
