// `arca pg verify`: a recovery point restored into a scratch server, started, checked and
// cleaned up (sources/postgres/verify.h), with the restore time (RTO sample) and the recovery
// point's age (RPO sample). A failed check is exit 12.
#pragma once
#include <optional>

#include <nlohmann/json.hpp>

#include "repo/repository.h"
#include "sources/postgres/verify.h"
#include "util/job_context.h"

namespace arca::ops {

struct PgVerifyOpResult {
  PgVerifyResult verify;
  int exit_code() const;           // 0 passed, 12 a check failed
  nlohmann::json to_json() const;  // pg verify --json
};

// The base backup a verify replays WAL from, when its target needs WAL (any but the backup's own
// consistent point): the caller derives the restore_command from it. Empty for that point.
std::optional<Snapshot> pg_verify_replay_point(const Repository& repo, const PgVerifyOptions& opts);
PgVerifyOpResult pg_verify(Repository& repo, const PgVerifyOptions& opts, JobContext& ctx);

}  // namespace arca::ops
