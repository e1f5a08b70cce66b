#include "server/status.h"

#include <algorithm>
#include <map>

#include "server/api_json.h"

namespace arca::server {
namespace {

// The newest of two records by `key`; either may be absent (an empty optional or a null JobRef).
template <typename Maybe, typename Key>
void keep_newest(Maybe& best, const Maybe& candidate, Key key) {
  if (candidate && (!best || key(*candidate) > key(*best))) best = candidate;
}

bool backup_failed(const JobRef& last) {
  if (!last) return false;
  return last->state == JobState::Failed || last->state == JobState::Partial || last->state == JobState::Expired;
}

// What the catalog and the plans say about one source, gathered in one pass over each list
// (a status page of hundreds of sources and a thousand plans must not be quadratic).
struct SourceFacts {
  std::optional<RecoveryPointRecord> newest_point;
  std::optional<VerificationRecord> last_verification, last_successful_verification;
  std::optional<DrillResultRecord> last_drill, last_passed_drill;
  std::vector<const PlanView*> backup_plans;
};

std::map<std::string, SourceFacts> gather(const ServerConfig& config, Catalog& catalog,
                                          const std::vector<PlanView>& plans) {
  std::map<std::string, SourceFacts> facts;
  std::vector<std::string> names;
  for (const auto& src : config.sources) {
    names.push_back(src.name);
    facts[src.name];
  }
  for (auto& [source, point] : catalog.newest_points(names)) facts[source].newest_point = std::move(point);
  // Newest per source across the kinds of verification (pg-verify and check, ...).
  auto by_time = [](const VerificationRecord& r) { return r.time; };
  for (const auto& v : catalog.last_verifications())
    if (auto it = facts.find(v.source); it != facts.end())
      keep_newest(it->second.last_verification, std::optional<VerificationRecord>(v), by_time);
  for (const auto& v : catalog.last_successful_verifications())
    if (auto it = facts.find(v.source); it != facts.end())
      keep_newest(it->second.last_successful_verification, std::optional<VerificationRecord>(v), by_time);
  // Newest per source across the drills that restore it.
  auto drill_time = [](const DrillResultRecord& r) { return r.time; };
  for (const auto& d : catalog.last_drill_results())
    if (auto it = facts.find(d.source); it != facts.end())
      keep_newest(it->second.last_drill, std::optional<DrillResultRecord>(d), drill_time);
  for (const auto& d : catalog.last_passed_drill_results())
    if (auto it = facts.find(d.source); it != facts.end())
      keep_newest(it->second.last_passed_drill, std::optional<DrillResultRecord>(d), drill_time);
  for (const auto& p : plans)
    if (p.kind == JobKind::Backup)
      if (auto it = facts.find(p.source); it != facts.end()) it->second.backup_plans.push_back(&p);
  return facts;
}

ComponentStatus component(const SourceConfig& src, const SourceFacts& facts, const Runtime& runtime, double now) {
  ComponentStatus c;
  c.source = src.name;
  c.kind = std::string(to_string(src.kind));
  c.repository = src.repository;
  c.rpo_objective_s = src.objectives.rpo_s;
  c.rto_objective_s = src.objectives.rto_s;
  c.newest_point = facts.newest_point;

  c.stream = runtime.stream(src.name);
  if (!c.stream && src.stream.enabled) c.stream = StreamStatus{};  // configured, not started yet: down
  c.stream_stalled = c.stream && stream_stalled(*c.stream, src.stream.stall_after_s, now);
  bool stream_healthy = c.stream && c.stream->connected && !c.stream_stalled;

  // Without a recovery point nothing is restorable, however far a stream got (WAL needs a base).
  if (c.newest_point) {
    double newest = c.newest_point->data_time > 0 ? c.newest_point->data_time : c.newest_point->time;
    if (stream_healthy) newest = std::max(newest, c.stream->caught_up_at);
    c.live_rpo_s = std::max(0.0, now - newest);
  }
  if (c.rpo_objective_s) c.rpo_ok = c.live_rpo_s && *c.live_rpo_s <= static_cast<double>(*c.rpo_objective_s);

  c.last_verification = facts.last_verification;
  c.last_successful_verification = facts.last_successful_verification;
  c.last_drill = facts.last_drill;
  c.last_passed_drill = facts.last_passed_drill;

  for (const PlanView* plan : facts.backup_plans) {
    const PlanView& p = *plan;
    if (p.next_due > 0 && (c.next_run == 0 || p.next_due < c.next_run)) c.next_run = p.next_due;
    keep_newest(c.last_backup, p.last_finished, [](const JobRecord& j) { return j.created_at; });
    keep_newest(c.last_successful_backup, p.last_success, [](const JobRecord& j) { return j.finished_at; });
  }

  bool stream_down = c.stream && !c.stream->connected;
  if (!c.newest_point)
    c.state = "never-backed-up";
  else if (!c.rpo_ok || c.stream_stalled || stream_down || backup_failed(c.last_backup))
    c.state = "at-risk";
  else
    c.state = "ok";
  return c;
}

template <typename Maybe>  // std::optional or JobRef
nlohmann::json or_null(const Maybe& v) {
  return v ? nlohmann::json(to_json(*v)) : nlohmann::json();
}
template <typename T>
nlohmann::json number_or_null(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json();
}

nlohmann::json stream_json(const StreamStatus& s, bool stalled) {
  nlohmann::json j{{"connected", s.connected},
                   {"stalled", stalled},
                   {"bytes", s.bytes},
                   {"lag_bytes", s.lag_bytes},
                   {"restarts", s.restarts},
                   {"last_error", s.last_error.empty() ? nlohmann::json() : nlohmann::json(s.last_error)}};
  put_time(j, "started_at", s.started_at);
  put_time(j, "last_progress_at", s.last_progress_at);
  put_time(j, "caught_up_at", s.caught_up_at);
  return j;
}

}  // namespace

bool stream_stalled(const StreamStatus& s, int64_t stall_after_s, double now) {
  if (!s.connected) return false;  // down, not stalled
  double last = std::max({s.last_progress_at, s.caught_up_at, s.started_at});
  return now - last > static_cast<double>(stall_after_s);
}

ServerStatus build_status(const ServerConfig& config, Catalog& catalog, const std::vector<PlanView>& plans,
                          const Runtime& runtime, double started_at, double now) {
  ServerStatus s;
  s.now = now;
  s.started_at = started_at;
  auto facts = gather(config, catalog, plans);
  for (const auto& src : config.sources) s.components.push_back(component(src, facts.at(src.name), runtime, now));
  for (const auto& r : config.repositories)
    s.repositories[r.name] = runtime.repository(r.name).value_or(RepositoryStatus{});
  // The configured replicas only (one removed by a reload is gone from the metrics at once);
  // one not started yet is known, with nothing measured.
  auto live = runtime.replications();
  for (const auto& r : config.repositories)
    for (const auto& x : r.replicas) {
      std::string plan = r.name + ".replicate." + x.name;
      auto it = live.find(plan);
      ReplicationStatus& rs = s.replications[plan];
      if (it != live.end() && it->second.location == x.location) rs = it->second;
      rs.repository = r.name;
      rs.replica = x.name;
      rs.location = x.location;
    }
  for (const auto& p : plans) {
    s.running_jobs += p.running;
    s.pending_jobs += p.pending;
  }
  return s;
}

nlohmann::json to_json(const ComponentStatus& c) {
  nlohmann::json j{{"source", c.source},
                   {"kind", c.kind},
                   {"repository", c.repository},
                   {"state", c.state},
                   {"newest_point", or_null(c.newest_point)},
                   {"live_rpo_s", number_or_null(c.live_rpo_s)},
                   {"rpo_objective_s", number_or_null(c.rpo_objective_s)},
                   {"rto_objective_s", number_or_null(c.rto_objective_s)},
                   {"rpo_ok", c.rpo_ok},
                   {"last_verification", or_null(c.last_verification)},
                   {"last_successful_verification", or_null(c.last_successful_verification)},
                   {"last_drill", or_null(c.last_drill)},
                   {"last_passed_drill", or_null(c.last_passed_drill)},
                   {"last_backup", or_null(c.last_backup)},
                   {"last_successful_backup", or_null(c.last_successful_backup)},
                   {"stream", c.stream ? stream_json(*c.stream, c.stream_stalled) : nlohmann::json()}};
  put_time(j, "next_run", c.next_run);
  return j;
}

nlohmann::json to_json(const ServerStatus& s) {
  nlohmann::json j{{"components", nlohmann::json::array()},
                   {"repositories", nlohmann::json::object()},
                   {"running_jobs", s.running_jobs},
                   {"pending_jobs", s.pending_jobs}};
  put_time(j, "now", s.now);
  put_time(j, "started_at", s.started_at);
  for (const auto& c : s.components) j["components"].push_back(to_json(c));
  for (const auto& [name, r] : s.repositories) {
    // Not accessed since the start: reachability unknown (null), not assumed.
    nlohmann::json rj{{"reachable", r.checked_at > 0 || !r.reachable ? nlohmann::json(r.reachable) : nlohmann::json()},
                      {"error", r.error.empty() ? nlohmann::json() : nlohmann::json(r.error)},
                      {"stored_bytes", r.stored_bytes > 0 ? nlohmann::json(r.stored_bytes) : nlohmann::json()}};
    put_time(rj, "checked_at", r.checked_at);
    put_time(rj, "stored_bytes_at", r.stored_bytes_at);
    j["repositories"][name] = rj;
  }
  j["replications"] = nlohmann::json::object();
  for (const auto& [plan, r] : s.replications) {
    nlohmann::json rj{{"repository", r.repository},
                      {"replica", r.replica},
                      {"location", r.location},
                      {"last_error", r.last_error.empty() ? nlohmann::json() : nlohmann::json(r.last_error)},
                      {"copies", r.copies},
                      {"failures", r.failures},
                      {"points_copied", r.points_copied},
                      {"wal_objects_copied", r.wal_objects_copied},
                      {"bytes_copied", r.bytes_copied},
                      {"lag", r.status ? r.status->to_json() : nlohmann::json()}};
    put_time(rj, "last_attempt_at", r.last_attempt_at);
    put_time(rj, "last_success_at", r.last_success_at);
    j["replications"][plan] = rj;
  }
  return j;
}

}  // namespace arca::server
