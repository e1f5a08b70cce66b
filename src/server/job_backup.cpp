// Backup jobs: a recovery point of the plan's source through the operation layer (the source's
// name recorded as the point's source name), then the plan's retention policy restricted to that
// source. Like the CLI, a point is PARTIAL when the operation made it partial (exit 3).
#include "ops/backup_files.h"
#include "ops/forget.h"
#include "ops/kafka_backup.h"
#include "ops/pg_backup.h"
#include "ops/redis_backup.h"
#include "repo/snapshot_filter.h"
#include "server/job_steps.h"

namespace arca::server::jobs {

namespace {

// The saved point as the outcome: SUCCESS, or PARTIAL with the warnings that made it partial.
// bytes_added is stats.stored_added: what the job added to the repository after compression
// and encryption (the storage it costs), not the plaintext of new chunks.
void saved(JobScope& s, JobOutcome& out, const Snapshot& snap, nlohmann::json result,
           const std::vector<std::string>& partial_warnings) {
  out.snapshot_id = snap.id.hex();
  out.bytes_added = snap.stats.stored_added;
  out.result = std::move(result);
  add_point(s, out, snap);
  for (const auto& w : snap.warnings)
    s.ctx.warn("backup.warning", (w.path.empty() ? "" : w.path + ": ") + w.message, {{"path", w.path}});
  if (!snap.partial) {
    out.state = JobState::Success;
    return;
  }
  out.state = JobState::Partial;
  std::vector<std::string> ws = partial_warnings;
  if (ws.empty()) ws.push_back("the recovery point is partial");
  out.warnings = int(ws.size());
  out.reason = warnings_sentence(ws);
}

std::vector<std::string> texts(const std::vector<SnapshotWarning>& ws) {
  std::vector<std::string> out;
  for (const auto& w : ws) out.push_back((w.path.empty() ? "" : w.path + ": ") + w.message);
  return out;
}

void backup_files(JobScope& s, JobOutcome& out) {
  const SourceConfig& src = *s.source;
  ops::BackupFilesRequest req;
  req.paths = src.paths;
  req.excludes = src.excludes;
  req.one_file_system = src.one_file_system;
  req.host = source_host(src);
  req.tags = src.tags;
  ops::BackupFilesResult r = ops::backup_files(s.repo.get(), req, s.ctx);
  saved(s, out, r.snapshot, r.to_json(), texts(r.outcome_warnings));
}

void backup_postgres(JobScope& s, JobOutcome& out) {
  const SourceConfig& src = *s.source;
  ops::PgBackupRequest req;
  req.conninfo = pg_conninfo(src);
  req.name = src.name;
  req.tags = src.tags;
  req.host = source_host(src);
  ops::PgBackupResult r = ops::pg_backup(s.repo.get(), req, s.ctx);
  saved(s, out, r.snapshot, r.to_json(), texts(r.snapshot.warnings));
}

void backup_redis(JobScope& s, JobOutcome& out) {
  const SourceConfig& src = *s.source;
  ops::RedisBackupRequest req;
  req.url = redis_url(src);
  req.name = src.name;
  req.tags = src.tags;
  req.host = source_host(src);
  // The repository opens (key derivation) once the server has started sending, as in the CLI.
  ops::RedisBackupResult r = ops::redis_backup([&]() -> Repository& { return s.repo.get(); }, req, s.ctx);
  saved(s, out, r.snapshot, r.to_json(), texts(r.snapshot.warnings));
}

void backup_kafka(JobScope& s, JobOutcome& out) {
  const SourceConfig& src = *s.source;
  ops::KafkaBackupRequest req;
  req.kafka.brokers = join_brokers(src);
  req.topics = src.topics;
  req.groups = src.groups;
  req.name = src.name;
  req.tags = src.tags;
  req.host = source_host(src);
  ops::KafkaBackupOpResult r = ops::kafka_backup(s.repo.get(), req, s.ctx);
  saved(s, out, r.last, r.to_json(), r.warnings);
  // A cancel ends a Kafka run normally, with a point of what it archived: kept, but the job was
  // still cancelled (and its retention is not applied).
  if (s.ctx.cancel.cancelled())
    throw Error(ErrorKind::Cancelled, "Kafka backup cancelled; recovery point " + r.last.id.short_hex() +
                                          " holds what was archived until then");
}

// The plan's keep rules, restricted to this source's points (kind, host, and its name: for files
// the path set, as recovery points name it).
ops::KeepOptions keep_for(const SourceConfig& src, ops::KeepOptions keep) {
  keep.kind = std::string(to_string(src.kind));
  keep.host = source_host(src);
  keep.paths.clear();
  if (src.kind == SourceKind::Files) {
    Snapshot probe;  // a files point of exactly these paths: its name is the one recorded points have
    probe.paths = absolute_paths(src.paths);
    keep.source = source_name_of(probe);
  } else {
    keep.source = src.name;
  }
  return keep;
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

// The forget command an operator can run by hand for the same policy.
std::string forget_command(const ops::KeepOptions& k, const std::string& repository) {
  std::string c = "arca forget --repo " + quoted(repository);
  auto num = [&](const char* flag, int v) {
    if (v) c += std::string(" ") + flag + " " + std::to_string(v);
  };
  auto str = [&](const char* flag, const std::string& v) {
    if (!v.empty()) c += std::string(" ") + flag + " " + quoted(v);
  };
  num("--keep-last", k.last), num("--keep-hourly", k.hourly), num("--keep-daily", k.daily);
  num("--keep-weekly", k.weekly), num("--keep-monthly", k.monthly), num("--keep-yearly", k.yearly);
  str("--keep-within", k.within), str("--keep-within-hourly", k.within_hourly);
  str("--keep-within-daily", k.within_daily), str("--keep-within-weekly", k.within_weekly);
  str("--keep-within-monthly", k.within_monthly), str("--keep-within-yearly", k.within_yearly);
  for (const auto& t : k.keep_tags) str("--keep-tag", t);
  str("--kind", k.kind), str("--host", k.host), str("--source", k.source);
  for (const auto& t : k.tags) str("--tag", t);
  return c;
}

void add_warning(JobOutcome& out, const std::string& why) {
  if (out.state == JobState::Success) out.state = JobState::Partial;
  out.warnings++;
  out.reason += (out.reason.empty() ? "" : "; ") + why;
}

}  // namespace

// Never confirmed here: a plan that needs confirmation removes nothing and the job says what the
// operator runs instead (the same rule `arca forget` enforces without --yes).
void apply_retention(JobScope& s, JobOutcome& out) {
  ops::ForgetRequest req;
  req.keep = keep_for(*s.source, *s.plan.retention);
  req.confirmed = false;
  Repository& repo = s.repo.get();
  ops::ForgetResult r;
  try {
    r = ops::forget(repo, req, s.ctx);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::Cancelled || s.ctx.cancel.cancelled()) throw;
    // The point is saved; a retention that cannot run (a lock, an append-only key) is a warning.
    out.result["retention"] = {{"error", e.what()}};
    add_warning(out, std::string("retention not applied: ") + e.what());
    s.ctx.warn("job.retention_failed", std::string("retention not applied: ") + e.what());
    return;
  }
  nlohmann::json j = r.to_json();
  j["applied"] = r.applied;
  j["needs_confirmation"] = r.needs_confirmation;
  out.result["retention"] = j;
  if (r.needs_confirmation) {
    std::string reasons = r.confirmation_reason;  // one a line
    for (size_t at = reasons.find('\n'); at != std::string::npos; at = reasons.find('\n', at))
      reasons.replace(at, 1, "; ");
    std::string why = "retention not applied, nothing was removed: the policy needs confirmation (" + reasons +
                      "); review it with '" + forget_command(req.keep, s.repo.config().location) +
                      " --dry-run' and run it by hand with --yes if it is right, or change the plan's retention";
    add_warning(out, why);
    s.ctx.warn("job.retention_needs_confirmation", why);
    return;
  }
  s.ctx.info("job.retention_applied",
             "retention removed " + std::to_string(r.removed) + " and kept " + std::to_string(r.kept) +
                 " recovery point(s) of source " + s.source->name,
             {{"removed", std::to_string(r.removed)}, {"kept", std::to_string(r.kept)}});
  if (r.removed == 0) return;
  // Points were removed: the catalog's index of this repository becomes exactly what is left.
  out.points = point_records(repo, s.repo.name(), s.config.sources);
  out.points_complete = true;
}

void run_backup(JobScope& s, JobOutcome& out) {
  switch (s.source->kind) {
    case SourceKind::Files:
      backup_files(s, out);
      break;
    case SourceKind::Postgres:
      backup_postgres(s, out);
      break;
    case SourceKind::Redis:
      backup_redis(s, out);
      break;
    case SourceKind::Kafka:
      backup_kafka(s, out);
      break;
  }
  if (s.plan.retention && (out.state == JobState::Success || out.state == JobState::Partial)) apply_retention(s, out);
}

}  // namespace arca::server::jobs
