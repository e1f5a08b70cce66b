#include "ops/pg_verify.h"

#include "ops/error_table.h"

namespace arca::ops {

std::optional<Snapshot> pg_verify_replay_point(const Repository& repo, const PgVerifyOptions& opts) {
  if (opts.target.kind == RecoveryTarget::Kind::Immediate) return std::nullopt;
  PgRestoreOptions ro;
  if (opts.snapshot != "latest") ro.snapshot = opts.snapshot;
  ro.source_name = opts.source_name;
  ro.target = opts.target;
  return choose_base_backup(repo, ro);
}

PgVerifyOpResult pg_verify(Repository& repo, const PgVerifyOptions& opts, JobContext& ctx) {
  PgVerifyOptions o = opts;
  o.cancel = &ctx.cancel;
  PgVerifyOpResult r;
  r.verify = arca::pg_verify(repo, o, ctx.progress);
  return r;
}

int PgVerifyOpResult::exit_code() const { return verify.passed() ? kExitOk : kExitCorrupt; }

nlohmann::json PgVerifyOpResult::to_json() const {
  const PgVerifyResult& r = verify;
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& c : r.checks)
    checks.push_back({{"name", c.name},
                      {"database", c.database},
                      {"status", c.skipped  ? "skipped"
                                 : c.passed ? "passed"
                                            : "failed"},
                      {"detail", c.detail}});
  return {{"snapshot", r.snapshot.id.hex()},
          {"source", r.snapshot.source_name},
          {"passed", r.passed()},
          {"restore_s", r.restore_s},
          {"start_s", r.start_s},
          {"rto_sample_s", r.restore_s + r.start_s},
          {"checks_s", r.checks_s},
          {"recovery_point_age_s", r.recovery_point_age_s},
          {"checks", checks},
          {"scratch", r.scratch.empty() ? nlohmann::json() : nlohmann::json(r.scratch)}};
}

}  // namespace arca::ops
