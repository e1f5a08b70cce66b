#include "server/metrics.h"

#include <array>
#include <map>
#include <set>

#include "server/exposition.h"
#include "server/status.h"

namespace arca::server {
namespace {

// Job durations, from a one-second check to a four-hour full backup.
constexpr std::array<double, 13> kDurationBuckets{1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400};

// Every final outcome, so that a plan's last-outcome state set always has all its members.
constexpr std::array<JobState, 7> kOutcomes{JobState::Success,    JobState::Partial, JobState::Failed,
                                            JobState::Skipped,    JobState::Expired, JobState::Canceled,
                                            JobState::Interrupted};

std::string str(std::string_view v) { return std::string(v); }

void job_families(Exposition& e) {
  e.family("arca_job_runs_total", "counter", "Jobs that reached a final state since the server started, by outcome.");
  e.family("arca_job_duration_seconds", "histogram", "Run time of jobs that started, since the server started.");
  e.family("arca_job_added_bytes_total", "counter",
           "New data stored in the repository by jobs since the server started.");
}

void server_metrics(Exposition& e, double started_at, double last_tick_at) {
  e.family("arca_build_info", "gauge", "Always 1; the version of the running server.");
  e.sample("arca_build_info", {{"version", ARCA_VERSION}}, 1);
  e.family("arca_server_start_time_seconds", "gauge", "When the server started (unix seconds).");
  e.sample("arca_server_start_time_seconds", {}, started_at);
  e.family("arca_scheduler_last_tick_timestamp_seconds", "gauge",
           "The scheduler's last pass (unix seconds); absent before the first.");
  if (last_tick_at > 0) e.sample("arca_scheduler_last_tick_timestamp_seconds", {}, last_tick_at);
}

void plan_metrics(Exposition& e, const std::vector<PlanView>& plans) {
  e.family("arca_plan_last_success_timestamp_seconds", "gauge",
           "When the plan's newest successful job finished (unix seconds); absent when none ever did.");
  e.family("arca_plan_last_run_timestamp_seconds", "gauge",
           "When the plan's newest finished job finished (unix seconds).");
  e.family("arca_plan_last_run_outcome", "gauge",
           "1 for the outcome of the plan's newest finished job, 0 for the others.");
  e.family("arca_plan_last_run_duration_seconds", "gauge", "Run time of the plan's newest finished job that started.");
  e.family("arca_plan_jobs_running", "gauge", "Jobs of the plan running now.");
  e.family("arca_plan_jobs_pending", "gauge", "Jobs of the plan waiting to start.");
  e.family("arca_plan_next_run_timestamp_seconds", "gauge",
           "The plan's next scheduled time (unix seconds); absent when none.");
  e.family("arca_plan_expected_interval_seconds", "gauge", "The usual time between two runs of the plan's schedule.");
  e.family("arca_plan_paused", "gauge", "1 when the plan is paused.");
  e.family("arca_plan_skipped_overlap_total", "counter",
           "Scheduled runs skipped because the previous job still ran, since the server started.");
  e.family("arca_plan_missed_total", "counter",
           "Scheduled times that passed without a job (downtime, pause), since the server started.");
  for (const auto& p : plans) {
    Labels who{{"plan", p.name}, {"kind", str(to_string(p.kind))}, {"source", p.source}};
    Labels plan{{"plan", p.name}};
    if (p.last_success) e.sample("arca_plan_last_success_timestamp_seconds", who, p.last_success->finished_at);
    // The newest job may still be running; only a final one has an outcome.
    if (p.last_finished) {  // kept while the next job waits or runs: the series never gaps
      const JobRecord& j = *p.last_finished;
      e.sample("arca_plan_last_run_timestamp_seconds", who, j.finished_at);
      for (JobState s : kOutcomes) {
        Labels l = who;
        l.emplace_back("outcome", str(to_string(s)));
        e.sample("arca_plan_last_run_outcome", l, j.state == s ? 1 : 0);
      }
      if (j.started_at > 0 && j.finished_at >= j.started_at)
        e.sample("arca_plan_last_run_duration_seconds", who, j.finished_at - j.started_at);
    }
    e.sample("arca_plan_jobs_running", plan, p.running);
    e.sample("arca_plan_jobs_pending", plan, p.pending);
    if (p.next_due > 0) e.sample("arca_plan_next_run_timestamp_seconds", plan, p.next_due);
    if (p.expected_interval_s > 0)
      e.sample("arca_plan_expected_interval_seconds", plan, static_cast<double>(p.expected_interval_s));
    e.sample("arca_plan_paused", plan, p.paused ? 1 : 0);
    e.sample("arca_plan_skipped_overlap_total", plan, static_cast<double>(p.skipped_overlap));
    e.sample("arca_plan_missed_total", plan, static_cast<double>(p.missed));
  }
}

void source_metrics(Exposition& e, const ServerStatus& st) {
  e.family("arca_source_info", "gauge", "Always 1: a configured source, its kind and repository.");
  e.family("arca_source_newest_point_timestamp_seconds", "gauge",
           "Time of the source's newest restorable recovery point (unix seconds); absent when none.");
  e.family("arca_source_newest_point_size_bytes", "gauge",
           "Logical size of the source's newest restorable recovery point.");
  e.family("arca_source_live_rpo_seconds", "gauge",
           "Data that a restore now would lose: now minus the newest restorable data (recovery point, or a "
           "caught-up continuous stream).");
  e.family("arca_source_rpo_objective_seconds", "gauge", "The source's recovery point objective.");
  e.family("arca_source_rto_objective_seconds", "gauge", "The source's recovery time objective.");
  for (const auto& c : st.components) {
    Labels sk{{"source", c.source}, {"kind", c.kind}};
    Labels skr{{"source", c.source}, {"kind", c.kind}, {"repository", c.repository}};
    e.sample("arca_source_info", skr, 1);
    if (c.newest_point) {
      e.sample("arca_source_newest_point_timestamp_seconds", skr, c.newest_point->time);
      e.sample("arca_source_newest_point_size_bytes", skr, static_cast<double>(c.newest_point->size));
    }
    if (c.live_rpo_s) e.sample("arca_source_live_rpo_seconds", sk, *c.live_rpo_s);
    if (c.rpo_objective_s) e.sample("arca_source_rpo_objective_seconds", sk, static_cast<double>(*c.rpo_objective_s));
    if (c.rto_objective_s) e.sample("arca_source_rto_objective_seconds", sk, static_cast<double>(*c.rto_objective_s));
  }
}

// Per source and kind of verification (a PostgreSQL source may have pg-verify and check).
void verification_metrics(Exposition& e, const ServerConfig& config, Catalog& catalog) {
  e.family("arca_source_last_verification_timestamp_seconds", "gauge",
           "When the newest verification ended (unix seconds).");
  e.family("arca_source_last_verification_ok", "gauge", "1 when the newest verification passed.");
  e.family("arca_source_last_verification_duration_seconds", "gauge", "Run time of the newest verification.");
  e.family("arca_source_last_verification_success_timestamp_seconds", "gauge",
           "When the newest successful verification ended (unix seconds); absent when none.");
  std::map<std::pair<std::string, std::string>, double> last_ok;  // (source, kind) -> time
  for (const auto& v : catalog.last_successful_verifications()) last_ok[{v.source, v.kind}] = v.time;
  for (const auto& v : catalog.last_verifications()) {
    const SourceConfig* src = nullptr;
    for (const auto& s : config.sources)
      if (s.name == v.source) src = &s;
    if (!src) continue;  // a source no longer configured
    Labels l{{"source", v.source}, {"kind", str(to_string(src->kind))}, {"verification", v.kind}};
    e.sample("arca_source_last_verification_timestamp_seconds", l, v.time);
    e.sample("arca_source_last_verification_ok", l, v.ok ? 1 : 0);
    e.sample("arca_source_last_verification_duration_seconds", l, v.duration_s);
    auto ok = last_ok.find({v.source, v.kind});
    if (ok != last_ok.end()) e.sample("arca_source_last_verification_success_timestamp_seconds", l, ok->second);
  }
}

// Per component of each drill plan's drill (docs/drills.md): the newest run's measured RTO and
// RPO, each objective met or not, and when the component last passed; per configured source, when
// a drill last restored it successfully (0: never), for the 92-day alert. Only the drills the
// configuration runs: a failed ad-hoc CLI drill found in a repository would otherwise keep an
// alert firing that nothing can clear (its results stay in /api/v1/drills).
void drill_metrics(Exposition& e, const ServerConfig& config, const ServerStatus& st, Catalog& catalog) {
  e.family("arca_drill_last_run_timestamp_seconds", "gauge", "When the newest drill of the component started (unix seconds).");
  e.family("arca_drill_rto_seconds", "gauge", "Measured RTO of the component in its newest drill: drill start to validated service.");
  e.family("arca_drill_rpo_seconds", "gauge",
           "Measured RPO of the component in its newest drill: incident time minus the newest data recovered.");
  e.family("arca_drill_validated", "gauge", "1 when the component was restored and every validator passed in its newest drill.");
  e.family("arca_drill_objective_met", "gauge", "1 when the newest drill met the component's objective (rto or rpo).");
  e.family("arca_drill_last_success_timestamp_seconds", "gauge",
           "When the newest drill in which the component passed started (unix seconds); absent when none.");
  e.family("arca_source_last_drill_success_timestamp_seconds", "gauge",
           "When a drill last restored the source and passed (unix seconds); 0 when none ever did.");
  auto labels = [](const DrillResultRecord& d) {
    return Labels{{"drill", d.drill}, {"component", d.component}, {"kind", d.kind}, {"source", d.source}};
  };
  std::set<std::string> planned;
  for (const auto& p : config.plans)
    if (p.kind == JobKind::Drill && p.drill) planned.insert(p.drill->name);
  std::map<std::pair<std::string, std::string>, double> passed_at;
  std::map<std::string, double> source_passed_at;
  for (const auto& d : catalog.last_passed_drill_results()) {
    if (!planned.count(d.drill)) continue;
    passed_at[{d.drill, d.component}] = d.time;
    source_passed_at[d.source] = std::max(source_passed_at[d.source], d.time);
  }
  for (const auto& d : catalog.last_drill_results()) {
    if (!planned.count(d.drill)) continue;
    Labels l = labels(d);
    e.sample("arca_drill_last_run_timestamp_seconds", l, d.time);
    e.sample("arca_drill_rto_seconds", l, d.rto_s);
    if (d.rpo_s) e.sample("arca_drill_rpo_seconds", l, *d.rpo_s);
    e.sample("arca_drill_validated", l, d.validated ? 1 : 0);
    for (auto [name, ok] : {std::pair{"rto", d.rto_ok}, std::pair{"rpo", d.rpo_ok}}) {
      if (!ok) continue;
      Labels o = l;
      o.emplace_back("objective", name);
      e.sample("arca_drill_objective_met", o, *ok ? 1 : 0);
    }
    if (auto it = passed_at.find({d.drill, d.component}); it != passed_at.end())
      e.sample("arca_drill_last_success_timestamp_seconds", l, it->second);
  }
  for (const auto& c : st.components) {
    auto it = source_passed_at.find(c.source);
    e.sample("arca_source_last_drill_success_timestamp_seconds", {{"source", c.source}, {"kind", c.kind}},
             it != source_passed_at.end() ? it->second : 0);
  }
}

void stream_metrics(Exposition& e, const ServerStatus& st) {
  e.family("arca_stream_up", "gauge", "1 when the source's continuous stream is connected.");
  e.family("arca_stream_stalled", "gauge",
           "1 when the stream is connected but has neither stored data nor caught up for longer than its stall_after.");
  e.family("arca_stream_last_progress_timestamp_seconds", "gauge",
           "When the stream last made data durable (unix seconds).");
  e.family("arca_stream_caught_up_timestamp_seconds", "gauge",
           "When the stream last had archived everything its source had (unix seconds).");
  e.family("arca_stream_lag_bytes", "gauge", "How far the source is ahead of the archive, when known.");
  e.family("arca_stream_archived_bytes_total", "counter", "Bytes the stream archived since it (re)started.");
  e.family("arca_stream_restarts_total", "counter", "Restarts of the stream since the server started.");
  for (const auto& c : st.components) {
    if (!c.stream) continue;
    const StreamStatus& s = *c.stream;
    Labels l{{"source", c.source}, {"kind", c.kind}};
    e.sample("arca_stream_up", l, s.connected ? 1 : 0);
    e.sample("arca_stream_stalled", l, c.stream_stalled ? 1 : 0);
    if (s.last_progress_at > 0) e.sample("arca_stream_last_progress_timestamp_seconds", l, s.last_progress_at);
    if (s.caught_up_at > 0) e.sample("arca_stream_caught_up_timestamp_seconds", l, s.caught_up_at);
    e.sample("arca_stream_lag_bytes", l, static_cast<double>(s.lag_bytes));
    e.sample("arca_stream_archived_bytes_total", l, static_cast<double>(s.bytes));
    e.sample("arca_stream_restarts_total", l, s.restarts);
  }
}

void repository_metrics(Exposition& e, const ServerStatus& st) {
  e.family("arca_repository_up", "gauge", "1 when the repository's last access succeeded; absent before the first.");
  e.family("arca_repository_last_check_timestamp_seconds", "gauge",
           "When the repository was last accessed (unix seconds).");
  e.family("arca_repository_stored_bytes", "gauge",
           "Bytes the repository stores, as last measured; absent when unknown.");
  for (const auto& [name, r] : st.repositories) {
    Labels l{{"repository", name}};
    if (r.checked_at > 0 || !r.reachable) {
      e.sample("arca_repository_up", l, r.reachable ? 1 : 0);
      if (r.checked_at > 0) e.sample("arca_repository_last_check_timestamp_seconds", l, r.checked_at);
    }
    if (r.stored_bytes > 0) e.sample("arca_repository_stored_bytes", l, static_cast<double>(r.stored_bytes));
  }
}

// Per replica (docs/replication.md, "Lag"): its lag per source, what is pending, when a copy last
// succeeded, how many failed. Absent until the replica's first copy finished.
void replication_metrics(Exposition& e, const ServerStatus& st) {
  e.family("arca_replication_lag_seconds", "gauge",
           "What the repository can restore of the source and the replica cannot yet, in seconds (0: caught up); "
           "while copies fail it grows from the last measurement.");
  e.family("arca_replica_newest_data_timestamp_seconds", "gauge",
           "The newest data of the source the replica can restore (unix seconds): the DR site's recovery point.");
  e.family("arca_replication_pending_points", "gauge", "Recovery points of the repository not yet on the replica.");
  e.family("arca_replication_pending_wal_bytes", "gauge", "Bytes of archived WAL not yet on the replica.");
  e.family("arca_replication_last_success_timestamp_seconds", "gauge",
           "When a copy to the replica last finished without an error (unix seconds).");
  e.family("arca_replication_failures_total", "counter", "Copies to the replica that failed since the server started.");
  for (const auto& [plan, r] : st.replications) {
    Labels l{{"repository", r.repository}, {"replica", r.replica}};
    e.sample("arca_replication_failures_total", l, static_cast<double>(r.failures));
    if (r.last_success_at > 0) e.sample("arca_replication_last_success_timestamp_seconds", l, r.last_success_at);
    if (!r.status) continue;
    e.sample("arca_replication_pending_points", l, static_cast<double>(r.status->pending_points));
    e.sample("arca_replication_pending_wal_bytes", l, static_cast<double>(r.status->pending_wal_bytes));
    // While copies fail, what the replica lacks is unknown but not less: the lag grows from the
    // last measurement (a frozen value would keep the alerts silent).
    double unknown_since = r.last_attempt_at > r.last_success_at ? std::max(0.0, st.now - r.status->checked_unix) : 0;
    for (const auto& c : r.status->components) {
      Labels cl = l;
      cl.emplace_back("source", c.source);
      cl.emplace_back("kind", c.kind);
      cl.emplace_back("host", c.host);
      e.sample("arca_replication_lag_seconds", cl, c.lag_s + unknown_since);
      if (c.replica_data_unix > 0) e.sample("arca_replica_newest_data_timestamp_seconds", cl, c.replica_data_unix);
    }
  }
}

}  // namespace

void JobMetrics::record(const JobRecord& finished) {
  if (!is_final(finished.state)) return;
  std::string kind = str(to_string(finished.kind));
  std::lock_guard lk(mu_);
  runs_[{finished.plan, kind, str(to_string(finished.state))}]++;
  // Jobs that never started (skipped, expired) have no run time to count.
  if (finished.started_at > 0 && finished.finished_at >= finished.started_at) {
    double d = finished.finished_at - finished.started_at;
    auto& b = buckets_[{finished.plan, kind}];
    b.resize(kDurationBuckets.size());
    for (size_t i = 0; i < kDurationBuckets.size(); i++)
      if (d <= kDurationBuckets[i]) {
        b[i]++;
        break;
      }
    auto& [sum, count] = sums_[{finished.plan, kind}];
    sum += d;
    count++;
  }
  if (!finished.repository.empty()) added_bytes_[finished.repository] += finished.bytes_added;
}

std::string JobMetrics::render() const {
  Exposition e;
  job_families(e);
  std::lock_guard lk(mu_);
  for (const auto& [key, n] : runs_) {
    const auto& [plan, kind, outcome] = key;
    e.sample("arca_job_runs_total", {{"plan", plan}, {"kind", kind}, {"outcome", outcome}}, static_cast<double>(n));
  }
  for (const auto& [key, counts] : buckets_) {
    Labels l{{"plan", key.first}, {"kind", key.second}};
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kDurationBuckets.size(); i++) {
      cumulative += counts[i];
      Labels b = l;
      b.emplace_back("le", Exposition::number(kDurationBuckets[i]));
      e.sample("arca_job_duration_seconds", b, static_cast<double>(cumulative), "_bucket");
    }
    const auto& [sum, count] = sums_.at(key);
    Labels inf = l;
    inf.emplace_back("le", "+Inf");
    e.sample("arca_job_duration_seconds", inf, static_cast<double>(count), "_bucket");
    e.sample("arca_job_duration_seconds", l, sum, "_sum");
    e.sample("arca_job_duration_seconds", l, static_cast<double>(count), "_count");
  }
  for (const auto& [repo, bytes] : added_bytes_)
    e.sample("arca_job_added_bytes_total", {{"repository", repo}}, static_cast<double>(bytes));
  return e.text();
}

std::string render_metrics(const ServerConfig& config, Catalog& catalog, const std::vector<PlanView>& plans,
                           const Runtime& runtime, const JobMetrics& job_metrics, double started_at,
                           double last_tick_at, double now) {
  // The same computation as /status, so that the two never disagree.
  ServerStatus st = build_status(config, catalog, plans, runtime, started_at, now);
  Exposition e;
  server_metrics(e, started_at, last_tick_at);
  plan_metrics(e, plans);
  source_metrics(e, st);
  verification_metrics(e, config, catalog);
  drill_metrics(e, config, st, catalog);
  stream_metrics(e, st);
  repository_metrics(e, st);
  replication_metrics(e, st);
  return e.text() + job_metrics.render();
}

}  // namespace arca::server
