#include "ops/pg_restore.h"

#include <chrono>
#include <filesystem>

#include "sources/postgres/pg_server.h"
#include "sources/postgres/wal_prefetch.h"

namespace arca::ops {

Snapshot choose_pg_restore_point(const Repository& repo, const PgRestoreRequest& req) {
  return choose_base_backup(repo, req.options);
}

PgRestoreOpResult pg_restore(Repository& repo, const Snapshot& chosen, const PgRestoreRequest& req, JobContext& ctx) {
  auto t0 = std::chrono::steady_clock::now();
  PgRestoreOptions o = req.options;
  o.snapshot = chosen.id.hex();
  o.cancel = &ctx.cancel;
  std::string bin;
  if (req.start) bin = find_pg_bin(backup_major_version(chosen), req.pg_bin);  // before writing anything
  ctx.progress.bytes_total = chosen.stats.bytes;
  ctx.progress.totals_known = true;
  PgRestoreOpResult r;
  r.restore = pg_restore_cluster(repo, o, ctx.progress);
  r.data_directory = o.target_dir;
  r.standby = o.standby;
  r.target = o.standby ? "standby: replays archived WAL as it arrives, until promoted ('arca pg promote')"
                       : o.target.describe();
  r.port = req.port;
  if (req.start) {
    auto ts = std::chrono::steady_clock::now();
    PgServer server(bin, std::filesystem::absolute(o.target_dir).string());
    server.start(r.port, {}, req.start_timeout, o.restore_command, false);
    r.socket_dir = server.run_dir();
    // pg_ctl returns once the server accepts (read-only) connections, which may be long before
    // the recovery target: with promotion, the wait goes on until it is a primary. A standby
    // is ready then; it keeps its credentials file and spool, restore_command runs on.
    if (!o.standby && o.target.action == "promote") {
      server.wait_promoted(req.start_timeout);
      server.drop_credentials();
      std::error_code ec;  // recovery is over: segments fetched ahead are not needed any more
      std::filesystem::remove_all(default_wal_spool(std::filesystem::absolute(o.target_dir).string()), ec);
    }
    r.start_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - ts).count();
    server.release();  // keeps running after arca exits
    r.started = true;
  }
  r.total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

nlohmann::json PgRestoreOpResult::to_json() const {
  return {{"snapshot", restore.snapshot.id.hex()},
          {"data_directory", data_directory},
          {"target", target},
          {"bytes", restore.bytes},
          {"bytes_written", restore.bytes_written},
          {"files", restore.files},
          {"restore_s", restore.restore_s},
          {"standby", standby},
          {"started", started},
          {"port", started ? port : 0},
          {"start_s", start_s},
          {"total_s", total_s},
          {"warnings", restore.warnings}};
}

}  // namespace arca::ops
