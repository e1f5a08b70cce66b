// Verify and check jobs: restore tests of a source's newest recovery point (pg/redis/kafka verify),
// a files source's repository checked with a read of a subset of its data, and `check` of a
// repository. Each records a verification; one that finds a problem ends FAILED with the reason
// (the CLI's exit 12 for the same finding).
#include <chrono>
#include <cstdio>

#include "ops/check.h"
#include "ops/error_table.h"
#include "ops/kafka_verify.h"
#include "ops/pg_verify.h"
#include "ops/redis_verify.h"
#include "server/job_steps.h"

namespace arca::server::jobs {

namespace {

struct Finding {
  std::string kind;  // "pg-verify", ..., "check", "check-read-data"
  bool ok = false;
  std::string detail;
  std::string snapshot;  // verified recovery point, if one
  nlohmann::json result;
};

std::string secs(double s) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f s", s);
  return b;
}

// "a; b; c" of the first few problems, "(and N more)" after them.
std::string first_problems(const std::vector<std::string>& list, size_t shown = 3) {
  std::string out;
  for (size_t i = 0; i < list.size() && i < shown; i++) out += (i ? "; " : "") + list[i];
  if (list.size() > shown) out += " (and " + std::to_string(list.size() - shown) + " more)";
  return out;
}

Finding check_finding(const ops::CheckReport& rep) {
  const CheckResult& r = rep.result;
  Finding f;
  f.kind = rep.read_data ? "check-read-data" : "check";
  f.ok = r.ok();
  f.result = rep.to_json();
  if (!f.ok) {
    std::vector<std::string> errs;
    for (const auto& e : r.errors) errs.push_back(e.object + ": " + e.message);
    f.detail =
        std::to_string(r.errors.size()) + " error(s): " + first_problems(errs) +
        (r.affected.empty() ? "" : "; " + std::to_string(r.affected.size()) + " file(s) in recovery points affected");
    return f;
  }
  f.detail = std::to_string(r.snapshots) + " recovery points, " + std::to_string(r.packs) + " packs checked";
  if (rep.read_data)
    f.detail += "; read " + std::to_string(r.packs_read) + " packs (" + std::to_string(r.bytes_read) + " bytes)";
  if (!r.warnings.empty()) f.detail += "; " + std::to_string(r.warnings.size()) + " warning(s) to look into";
  return f;
}

Finding run_check_op(Repository& repo, const std::string& subset, JobContext& ctx) {
  ops::CheckRequest req;
  req.subset = subset;
  return check_finding(ops::check(repo, req, ctx));
}

template <class Checks>
std::string failed_checks(const Checks& checks) {
  std::vector<std::string> failed;
  for (const auto& c : checks)
    if (!c.passed) failed.push_back(c.name + ": " + c.detail);
  return first_problems(failed);
}

Finding verify_postgres(JobScope& s, Repository& repo) {
  PgVerifyOptions o;  // the base backup's own consistent point: no WAL (no restore_command) needed
  o.snapshot = "latest";
  o.source_name = s.source->name;
  ops::PgVerifyOpResult r = ops::pg_verify(repo, o, s.ctx);
  const PgVerifyResult& v = r.verify;
  Finding f{"pg-verify", v.passed(), "", v.snapshot.id.hex(), r.to_json()};
  size_t skipped = 0;
  for (const auto& c : v.checks) skipped += c.skipped;
  f.detail = f.ok ? std::to_string(v.checks.size() - skipped) + " checks passed" +
                        (skipped ? ", " + std::to_string(skipped) + " skipped" : "") + "; restore " +
                        secs(v.restore_s) + " + start " + secs(v.start_s)
                  : "failed checks: " + failed_checks(v.checks);
  return f;
}

Finding verify_redis(JobScope& s, Repository& repo) {
  ops::RedisVerifyRequest o;
  o.snapshot = "latest";
  o.source = s.source->name;
  ops::RedisVerifyOpResult r = ops::redis_verify(repo, o, s.ctx);
  Finding f{"redis-verify", r.passed(), "", r.snapshot.id.hex(), r.to_json()};
  f.detail = f.ok ? std::to_string(r.checks.size()) + " checks passed; " + std::to_string(r.keys_loaded) +
                        " keys loaded in " + secs(r.rto_s())
                  : "failed checks: " + failed_checks(r.checks);
  return f;
}

Finding verify_kafka(JobScope& s, Repository& repo) {
  ops::KafkaVerifyRequest o;
  o.snapshot = "latest";
  o.source = s.source->name;
  ops::KafkaVerifyOpResult r = ops::kafka_verify(repo, o, s.ctx);
  Finding f{"kafka-verify", r.passed(), "", r.snapshot.id.hex(), r.to_json()};
  std::vector<std::string> bad;
  for (const auto& p : r.partitions)
    if (!p.passed) bad.push_back(p.topic + "/" + std::to_string(p.partition) + ": " + p.problem);
  f.detail =
      f.ok ? std::to_string(r.partitions.size()) + " partitions, " + std::to_string(r.records) + " records verified"
           : std::to_string(bad.size()) + " partition(s) differ: " + first_problems(bad);
  return f;
}

// The verification as the outcome.
void record(JobScope& s, JobOutcome& out, Finding f, const std::string& source, double started, double duration) {
  VerificationRecord v;
  v.job_id = s.job.id;
  v.source = source;
  v.repository = s.repo.name();
  v.kind = f.kind;
  v.time = started;
  v.ok = f.ok;
  v.duration_s = duration;
  v.detail = f.detail;
  out.verifications.push_back(v);
  out.result = std::move(f.result);
  std::string what = f.kind + (source.empty() ? " of repository " + s.repo.name() : " of source " + source) +
                     (f.snapshot.empty() ? "" : " (recovery point " + f.snapshot.substr(0, 8) + ")");
  s.ctx.emit(f.ok ? EventLevel::Info : EventLevel::Error, "job.verified",
             what + (f.ok ? " passed: " : " FAILED: ") + f.detail,
             {{"kind", f.kind}, {"ok", f.ok ? "true" : "false"}, {"snapshot", f.snapshot}});
  if (f.ok) {
    out.state = JobState::Success;
    return;
  }
  out.state = JobState::Failed;
  out.reason = what + " failed: " + f.detail;
  out.exit_code = kExitCorrupt;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

void run_verify(JobScope& s, JobOutcome& out) {
  double started = now_s();
  auto t0 = std::chrono::steady_clock::now();
  Repository& repo = s.repo.get();
  Finding f;
  switch (s.source->kind) {
    case SourceKind::Files:
      // A files point restores from its repository's packs: verify them by reading a share.
      f = run_check_op(repo, s.plan.read_data_subset.empty() ? "5%" : s.plan.read_data_subset, s.ctx);
      break;
    case SourceKind::Postgres:
      f = verify_postgres(s, repo);
      break;
    case SourceKind::Redis:
      f = verify_redis(s, repo);
      break;
    case SourceKind::Kafka:
      f = verify_kafka(s, repo);
      break;
  }
  record(s, out, std::move(f), s.source->name, started, seconds_since(t0));
}

void run_check(JobScope& s, JobOutcome& out) {
  double started = now_s();
  auto t0 = std::chrono::steady_clock::now();
  Finding f = run_check_op(s.repo.get(), s.plan.read_data_subset, s.ctx);
  record(s, out, std::move(f), "", started, seconds_since(t0));
}

}  // namespace arca::server::jobs
