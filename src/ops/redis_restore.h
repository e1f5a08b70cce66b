// `arca redis restore`: a recovery point back as files (dump.rdb, appendonlydir/), optionally
// with a redis-server started on them and waited for until loaded; or its keys loaded into a
// running server (sources/redis/redis_restore.h).
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "repo/repository.h"
#include "sources/redis/redis_restore.h"
#include "util/job_context.h"

namespace arca::ops {

struct RedisRestoreRequest {
  std::string snapshot = "latest", source;  // source: with 'latest', the newest point of this source name
  std::string to;                           // files into this directory…
  bool force = false;                       // …replacing an existing dump.rdb or appendonlydir/
  RedisLoadOptions load;                    // or (load.url set) keys into this running server
  bool start = false;                       // with `to`: start a redis-server on the files
  int port = 0;
  std::string bind = "127.0.0.1";
  std::string redis_server;                                          // binary (default: from PATH)
  int timeout_s = 600;                                               // for the data set to load
  std::vector<std::pair<std::string, std::string>> server_settings;  // reach the server on stdin
  // Throws Error(Usage) for a request that mixes or lacks targets; checked before any work.
  void validate() const;
};

struct RedisStartedServer {
  int pid = 0, port = 0;
  double load_s = 0;
  uint64_t keys_loaded = 0;
  std::string log_file;
};

struct RedisRestoreResult {
  Snapshot snapshot;
  std::string to;
  bool loaded_into = false;  // keys into a running server (load), else files (files)
  std::string into;          // that server, for messages (no password)
  RedisLoadResult load;
  RestoreResult files;
  std::optional<RedisStartedServer> server;  // started (and left running)
  // Why the files restore failed, if it did (restore/restore_outcome.h, all or nothing):
  // NoSpace (the target is full), Corrupt (damaged data kept a file out), Io (the target's
  // fault: permissions, a read-only filesystem). No server is started after a failure.
  std::optional<ErrorKind> failure() const;
  nlohmann::json to_json() const;  // redis restore --json
};

RedisRestoreResult redis_restore(Repository& repo, const RedisRestoreRequest& req, JobContext& ctx);

// --server-option NAME=VALUE and the lines of a settings file (NAME=VALUE; '#' comments); throws
// Error(Usage) for a line without a name.
std::vector<std::pair<std::string, std::string>> redis_server_settings(const std::vector<std::string>& options,
                                                                       const std::string& file);

}  // namespace arca::ops
