// run_job: finds the plan's source and repository, runs the step for the job's kind (job_steps.h)
// and maps what it throws to an outcome: Cancelled (or anything after a cancel) is CANCELED, any
// other arca::Error is FAILED with its message and the CLI's exit code for the same failure.

#include "ops/error_table.h"
#include "ops/prune.h"
#include "server/job_steps.h"
#include "sources/postgres/pg_conn.h"
#include "sources/redis/redis_conn.h"
#include "util/clock.h"
#include "util/host.h"

namespace arca::server {

namespace jobs {

double now_s() { return clock_now_s(); }

Repository& JobRepository::get() {
  if (!repo_) {
    try {
      repo_ = open_configured_repository(config_);
    } catch (const Error& e) {
      report(false, e.what());
      throw;
    }
    report(true, "");
  }
  return *repo_;
}

void JobRepository::report(bool reachable, const std::string& error) {
  double now = now_s();
  runtime_.update_repository(config_.name, [&](RepositoryStatus& r) {
    r.reachable = reachable;
    r.error = error;
    r.checked_at = now;
  });
}

void JobRepository::report_stored_bytes(uint64_t bytes) {
  double now = now_s();
  runtime_.update_repository(config_.name, [&](RepositoryStatus& r) {
    r.stored_bytes = bytes;
    r.stored_bytes_at = now;
  });
}

std::string source_host(const SourceConfig& src) { return src.host.empty() ? local_hostname() : src.host; }

std::string pg_conninfo(const SourceConfig& src) {
  // In the connection string, in memory: setenv(PGPASSWORD) would race with other jobs' threads.
  std::string password = src.pg_password.value();
  return password.empty() ? src.conninfo : pg_conninfo_with(src.conninfo, "password", password);
}

std::string redis_url(const SourceConfig& src) {
  std::string password = src.redis_password.value();
  return password.empty() ? src.url : redis_url_with_password(src.url, password);
}

std::string join_brokers(const SourceConfig& src) {
  std::string out;
  for (const auto& b : src.brokers) out += (out.empty() ? "" : ",") + b;
  return out;
}

std::string warnings_sentence(const std::vector<std::string>& warnings) {
  if (warnings.empty()) return "";
  std::string s = std::to_string(warnings.size()) + (warnings.size() == 1 ? " warning: " : " warnings: ") + warnings[0];
  if (warnings.size() > 1) s += " (and " + std::to_string(warnings.size() - 1) + " more)";
  return s;
}

void add_point(JobScope& s, JobOutcome& out, const Snapshot& snap) {
  out.points.push_back(point_record(snap, s.repo.name(), s.config.sources));
  s.runtime.notify_written(s.repo.name());  // its replicators copy it now, not at their next sweep
  s.ctx.info(
      "job.point_saved", "recovery point " + snap.id.short_hex() + " saved in repository " + s.repo.name(),
      {{"snapshot", snap.id.hex()}, {"repository", s.repo.name()}, {"partial", snap.partial ? "true" : "false"}});
}

void run_prune(JobScope& s, JobOutcome& out) {
  ops::PruneRequest req;
  req.grace = s.plan.prune_grace;
  req.max_unused = s.plan.prune_max_unused;
  Repository& repo = s.repo.get();
  ops::PruneResult r;
  try {
    r = ops::prune(repo, req, s.ctx);
  } catch (const Error& e) {
    // The refusal to delete at once while backups run speaks of the CLI's `--grace 0`; here the
    // operator must change the plan's field instead.
    if (e.kind() != ErrorKind::Conflict || req.grace != "0") throw;
    std::string m = e.what();
    auto replace = [&m](const std::string& from, const std::string& to) {
      if (size_t at = m.find(from); at != std::string::npos) m.replace(at, from.size(), to);
    };
    replace("--grace 0", "prune-grace: 0 (plan '" + s.plan.name + "')");
    replace("Run prune with a grace period", "Give the plan a prune-grace span");
    throw Error(ErrorKind::Conflict, m);
  }
  out.result = r.to_json();
  s.repo.report_stored_bytes(r.packs.stored_bytes_after);
  // The catalog's index of this repository becomes exactly what is left.
  out.points = point_records(repo, s.repo.name(), s.config.sources);
  out.points_complete = true;
  if (r.damaged()) throw r.damage_error();  // what prune did and did not do, and what to run
  out.state = JobState::Success;
}

}  // namespace jobs

namespace {

using jobs::JobRepository;
using jobs::JobScope;

const SourceConfig& plan_source(const ServerConfig& config, const PlanConfig& plan) {
  const SourceConfig* src = config.source(plan.source);
  if (!src)
    throw Error(ErrorKind::Usage, "plan '" + plan.name + "' names source '" + plan.source +
                                      "', which the configuration does not define: add it or fix the plan");
  return *src;
}

const RepositoryConfig& plan_repository(const ServerConfig& config, const PlanConfig& plan, const SourceConfig* src) {
  const std::string& name = src ? src->repository : plan.repository;
  const RepositoryConfig* rc = config.repository(name);
  if (!rc)
    throw Error(ErrorKind::Usage, "plan '" + plan.name + "' uses repository '" + name +
                                      "', which the configuration does not define: add it or fix the plan");
  return *rc;
}

bool uses_source(const PlanConfig& p) {
  return p.kind == JobKind::Backup || p.kind == JobKind::Verify || (p.kind == JobKind::Stream && p.replica.empty());
}

// Only the repository answers these jobs: a lost connection or an I/O error is the repository's.
bool repository_only(JobKind k, const SourceConfig* src) {
  return k == JobKind::Check || k == JobKind::Prune || (src && src->kind == SourceKind::Files);
}

void run_step(JobScope& s, JobOutcome& out) {
  switch (s.job.kind) {
    case JobKind::Backup:
      return jobs::run_backup(s, out);
    case JobKind::Verify:
      return jobs::run_verify(s, out);
    case JobKind::Check:
      return jobs::run_check(s, out);
    case JobKind::Prune:
      return jobs::run_prune(s, out);
    case JobKind::Stream:
      return s.plan.replica.empty() ? jobs::run_stream(s, out) : jobs::run_replication(s, out);
    case JobKind::Drill:
      return jobs::run_drill(s, out);
  }
  throw Error(ErrorKind::Usage, "unknown job kind");
}

EventLevel level_of(JobState st) {
  switch (st) {
    case JobState::Success:
      return EventLevel::Info;
    case JobState::Partial:
    case JobState::Canceled:
      return EventLevel::Warning;
    default:
      return EventLevel::Error;
  }
}

}  // namespace

JobOutcome run_job(const ServerConfig& config, const PlanConfig& plan, const JobRecord& job, JobContext& ctx,
                   Runtime& runtime) {
  JobOutcome out;
  std::string what = std::string(to_string(job.kind)) + " job " + std::to_string(job.id) + " of plan " + plan.name;
  ctx.info("job.started", what + " started",
           {{"job", std::to_string(job.id)}, {"plan", plan.name}, {"kind", std::string(to_string(job.kind))}});
  const SourceConfig* src = nullptr;
  std::unique_ptr<JobRepository> repo;
  try {
    if (uses_source(plan)) src = &plan_source(config, plan);
    const RepositoryConfig& rc = plan_repository(config, plan, src);
    out.points_repository = rc.name;
    ctx.cancel.check(what.c_str());  // cancelled before it started: nothing to undo
    repo = std::make_unique<JobRepository>(rc, runtime);
    JobScope scope{config, plan, job, ctx, runtime, src, *repo};
    run_step(scope, out);
    if (repo->opened()) repo->report(true, "");
  } catch (const Error& e) {
    out.reason = e.what();
    if (e.kind() == ErrorKind::Cancelled || ctx.cancel.cancelled()) {
      // Whatever stopped it after a cancel, the operation published nothing unfinished.
      out.state = JobState::Canceled;
      out.exit_code = kExitInterrupted;
    } else {
      out.state = JobState::Failed;
      out.exit_code = exit_code_for(e.kind());
      bool repo_fault = e.kind() == ErrorKind::NoSpace || e.kind() == ErrorKind::Io ||
                        (e.kind() == ErrorKind::Unreachable && repository_only(job.kind, src));
      // A full disk still answers: reachable, with the reason; the others did not answer.
      if (repo && repo->opened() && repo_fault) repo->report(e.kind() == ErrorKind::NoSpace, e.what());
    }
  } catch (const std::exception& e) {
    out.state = ctx.cancel.cancelled() ? JobState::Canceled : JobState::Failed;
    out.reason = e.what();
    out.exit_code = ctx.cancel.cancelled() ? kExitInterrupted : kExitError;
  }
  if (out.state != JobState::Success && out.exit_code == 0)
    out.exit_code = out.state == JobState::Partial ? kExitPartial : kExitError;
  std::vector<std::pair<std::string, std::string>> fields = {
      {"job", std::to_string(job.id)}, {"plan", plan.name}, {"state", std::string(state_label(out.state))}};
  if (!out.snapshot_id.empty()) fields.emplace_back("snapshot", out.snapshot_id);
  if (out.warnings) fields.emplace_back("warnings", std::to_string(out.warnings));
  ctx.emit(level_of(out.state), "job.finished",
           what + " ended " + std::string(state_label(out.state)) + (out.reason.empty() ? "" : ": " + out.reason),
           std::move(fields));
  return out;
}

}  // namespace arca::server
