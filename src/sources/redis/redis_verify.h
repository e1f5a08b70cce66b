// `arca redis verify`: prove a recovery point restores. Its dump.rdb is read from the
// repository (CRC-64 checked, keys counted and compared with the counts recorded at backup),
// loaded by a scratch redis-server, whose key counts per database are compared with the
// recording; sampled keys are compared value by value (DEBUG DIGEST-VALUE of the loaded key
// against a RESTORE of the stored bytes). The restore and load times are an RTO sample.
#pragma once
#include <string>
#include <vector>

#include "repo/repository.h"
#include "util/job_context.h"
#include "util/progress.h"

namespace arca {

struct RedisVerifyOptions {
  std::string snapshot = "latest";
  std::string source;          // with 'latest'
  std::string scratch_parent;  // default: $TMPDIR or /tmp
  std::string redis_server;    // binary (default: from PATH)
  size_t samples = 200;
  bool keep = false;
  int timeout_s = 600;
  const CancelToken* cancel = nullptr;  // null: not cancellable; cancelled: throws Error(Cancelled)
};

struct RedisVerifyCheck {
  std::string name;
  bool passed = false;
  std::string detail;
};

struct RedisVerifyResult {
  Snapshot snapshot;
  std::vector<RedisVerifyCheck> checks;
  double restore_s = 0, load_s = 0, checks_s = 0, recovery_point_age_s = 0;
  uint64_t keys_loaded = 0;
  std::string scratch;  // kept scratch directory
  bool passed() const;
};

RedisVerifyResult redis_verify(Repository& repo, const RedisVerifyOptions& opts, ProgressCounters& progress);

}  // namespace arca
