// Drill jobs (docs/server.md, "Drill plans"): the plan's drill file run exactly as `arca drill
// run` runs it — what a killed drill left removed first, each component on its own handle of the
// plan's repository, the record saved into that repository — and each component's result kept in
// the catalog for the status page, the metrics and their alerts.
#include "drill/drill_components.h"
#include "drill/drill_record.h"
#include "drill/drill_report.h"
#include "ops/error_table.h"
#include "config/values.h"
#include "ops/pg_wal.h"
#include "server/config_drill.h"
#include "server/job_steps.h"
#include "server/repository_access.h"

namespace arca::server {

std::vector<DrillResultRecord> drill_result_records(const drill::DrillResult& r, const std::string& repository,
                                                    const std::vector<SourceConfig>& sources) {
  std::vector<DrillResultRecord> out;
  for (const auto& c : r.components) {
    DrillResultRecord d;
    d.drill_id = r.id;
    d.component = c.name;
    d.drill = r.name;
    d.kind = std::string(drill::to_string(c.kind));
    d.source = configured_source_name(d.kind, c.source, sources);
    if (d.source.empty()) d.source = c.source;
    d.repository = repository;
    d.time = r.started_at;
    d.rto_s = c.rto_s;
    d.rpo_s = c.rpo_s;
    d.rto_objective_s = c.objectives.rto_s;
    d.rpo_objective_s = c.objectives.rpo_s;
    d.rto_ok = c.rto_ok;
    d.rpo_ok = c.rpo_ok;
    d.validated = c.validated();
    d.passed = c.passed();
    if (!c.error.empty()) {
      d.detail = c.error;
    } else {
      for (const auto& ch : c.checks)
        if (!ch.passed && !ch.skipped) d.detail += (d.detail.empty() ? "" : "; ") + ch.name + ": " + ch.detail;
      if (d.detail.empty() && c.rto_ok == false) d.detail = "RTO objective missed";
      if (c.rpo_ok == false) d.detail += std::string(d.detail.empty() ? "" : "; ") + "RPO objective missed";
    }
    out.push_back(std::move(d));
  }
  return out;
}

namespace jobs {

namespace {

// The restore_command of a scratch PostgreSQL: the server's own credentials by file. A password
// that only the environment holds reaches `pg wal-fetch` as ARCA_PASSWORD (the scratch server
// gets it in a private credentials file), when that is its name; S3 keys likewise as AWS_*. A
// secret backend option stays out: the command is written into postgresql.auto.conf.
std::string server_wal_fetch_command(const RepositoryConfig& rc, const std::string& system_id) {
  ops::WalFetchCommand c;
  c.repository = rc.location;
  c.key_file = rc.key_file;
  c.password_file = rc.password.file;
  if (c.key_file.empty() && c.password_file.empty() && rc.password.env != "ARCA_PASSWORD") return "";
  for (const auto& [k, v] : rc.options)
    if (!config::values::option_is_secret(k)) c.options.push_back(k + "=" + v);
  c.system_id = system_id;
  c.quiet = true;
  return ops::wal_fetch_command(c);
}

// Why a drill did not pass, in one sentence naming the components.
std::string drill_reason(const drill::DrillResult& r, const std::vector<DrillResultRecord>& recs) {
  std::string failed, missed;
  for (size_t i = 0; i < r.components.size(); i++) {
    const auto& c = r.components[i];
    if (!c.validated())
      failed += (failed.empty() ? "" : "; ") + c.name + ": " + recs[i].detail;
    else if (!c.passed()) {
      using drill::duration_text;
      std::string why;
      if (c.rto_ok == false)
        why = "RTO " + duration_text(c.rto_s) + " > " + duration_text(double(*c.objectives.rto_s));
      if (c.rpo_ok == false && c.rpo_s)
        why += (why.empty() ? "" : ", ") + std::string("RPO ") + duration_text(*c.rpo_s) + " > " +
               duration_text(double(*c.objectives.rpo_s));
      missed += (missed.empty() ? "" : "; ") + c.name + " " + why;
    }
  }
  if (!failed.empty()) return "drill " + r.name + " failed: " + failed;
  if (!missed.empty()) return "drill " + r.name + " missed objectives: " + missed;
  return "drill " + r.name + " restored nothing";
}

}  // namespace

void run_drill(JobScope& s, JobOutcome& out) {
  if (!s.plan.drill)
    throw Error(ErrorKind::Usage, "plan '" + s.plan.name + "' has no drill file read: check the configuration");
  const drill::DrillSpec& spec = *s.plan.drill;
  for (const auto& gone : drill::remove_stale_scratch(drill::scratch_parent(spec)))
    s.ctx.emit(EventLevel::Warning, "drill.stale_removed", "removed what a killed drill left: " + gone, {});
  if (auto problems = drill::check_targets(spec); !problems.empty()) {
    std::string all;
    for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
    throw Error(ErrorKind::Usage, "drill " + spec.name + " (" + s.plan.drill_file + "): " + all);
  }
  const RepositoryConfig& rc = s.repo.config();
  Repository& repo = s.repo.get();  // opened first: an unreachable repository fails the job as such
  drill::DrillEnvironment env;
  env.open_repository = [&rc] { return open_configured_repository(rc); };
  env.wal_fetch_command = [&rc](const std::string& system_id) { return server_wal_fetch_command(rc, system_id); };
  env.ctx = &s.ctx;
  drill::DrillResult r = drill::run_drill(spec, env);
  drill::save_drill_record(repo, r);
  out.result = drill::to_json(r);
  out.drill_results = drill_result_records(r, rc.name, s.config.sources);
  s.ctx.emit(r.passed() ? EventLevel::Info : EventLevel::Error, "drill.finished",
             "drill " + r.name + " " + (r.passed() ? "passed" : "did not pass") + "; record " + r.id.substr(0, 12),
             {{"drill", r.name}, {"record", r.id}});
  if (r.passed()) {
    out.state = JobState::Success;
    return;
  }
  out.state = JobState::Failed;
  out.reason = drill_reason(r, out.drill_results);
  out.exit_code = r.exit_code();
}

}  // namespace jobs
}  // namespace arca::server
