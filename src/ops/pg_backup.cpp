#include "ops/pg_backup.h"

namespace arca::ops {

nlohmann::json PgPointResult::to_json() const {
  nlohmann::json j = snapshot.to_json();
  j["short_id"] = snapshot.id.short_hex();
  return j;
}

PgBackupResult pg_backup(Repository& repo, const PgBackupRequest& req, JobContext& ctx) {
  PgBackupOptions o = req;
  o.cancel = &ctx.cancel;
  return {pg_base_backup(repo, o, ctx.progress)};
}

PgDumpResult pg_dump(Repository& repo, const PgDumpRequest& req, JobContext& ctx) {
  PgDumpOptions o = req;
  o.cancel = &ctx.cancel;
  return {pg_dump_to_repo(repo, o, ctx.progress)};
}

}  // namespace arca::ops
