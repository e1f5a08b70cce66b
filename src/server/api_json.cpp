#include "server/api_json.h"

#include <cmath>
#include <ctime>
#include "util/clock.h"

namespace arca::server {

namespace {


nlohmann::json or_null(const std::string& s) { return s.empty() ? nlohmann::json() : nlohmann::json(s); }

}  // namespace

std::string rfc3339(double unix_seconds) { return rfc3339_utc(unix_seconds); }

void put_time(nlohmann::json& j, const std::string& name, double unix_seconds) {
  std::string text = rfc3339(unix_seconds);
  if (text.empty()) {
    j[name] = nullptr;
    j[name + "_unix"] = nullptr;
  } else {
    j[name] = text;
    j[name + "_unix"] = unix_seconds;
  }
}

nlohmann::json to_json(const JobRecord& r) {
  nlohmann::json j = {{"id", r.id},
                      {"plan", r.plan},
                      {"kind", std::string(to_string(r.kind))},
                      {"source", or_null(r.source)},
                      {"repository", or_null(r.repository)},
                      {"state", std::string(state_label(r.state))},
                      {"trigger", r.trigger},
                      {"attempt", r.attempt},
                      {"retry_of", r.retry_of == 0 ? nlohmann::json() : nlohmann::json(r.retry_of)},
                      {"reason", or_null(r.reason)},
                      {"warnings", r.warnings},
                      {"snapshot_id", or_null(r.snapshot_id)},
                      {"bytes_added", r.bytes_added},
                      {"result", r.result}};
  put_time(j, "scheduled_at", r.scheduled_at);
  put_time(j, "created_at", r.created_at);
  put_time(j, "started_at", r.started_at);
  put_time(j, "finished_at", r.finished_at);
  put_time(j, "start_deadline", r.start_deadline);
  put_time(j, "complete_deadline", r.complete_deadline);
  j["duration_s"] = r.started_at > 0 && r.finished_at >= r.started_at ? nlohmann::json(r.finished_at - r.started_at)
                                                                      : nlohmann::json();
  return j;
}

nlohmann::json to_json(const JobEvent& e) {
  nlohmann::json fields = nlohmann::json::object();
  for (const auto& [k, v] : e.event.fields) fields[k] = v;
  nlohmann::json j = {{"job_id", e.job_id},
                      {"seq", e.seq},
                      {"level", std::string(level_name(e.event.level))},
                      {"code", e.event.code},
                      {"message", e.event.message},
                      {"fields", fields}};
  put_time(j, "time", e.time);
  return j;
}

nlohmann::json to_json(const PlanView& p) {
  nlohmann::json j = {{"name", p.name},
                      {"kind", std::string(to_string(p.kind))},
                      {"source", or_null(p.source)},
                      {"repository", or_null(p.repository)},
                      {"schedule", p.schedule},
                      {"paused", p.paused},
                      {"expected_interval_s", p.expected_interval_s},
                      {"running", p.running},
                      {"pending", p.pending},
                      {"skipped_overlap", p.skipped_overlap},
                      {"missed", p.missed},
                      {"last_job", p.last_job ? to_json(*p.last_job) : nlohmann::json()},
                      {"last_finished", p.last_finished ? to_json(*p.last_finished) : nlohmann::json()},
                      {"last_success", p.last_success ? to_json(*p.last_success) : nlohmann::json()}};
  put_time(j, "next_due", p.next_due);
  return j;
}

nlohmann::json to_json(const RecoveryPointRecord& p) {
  nlohmann::json j = {{"repository", p.repository}, {"snapshot_id", p.snapshot_id}, {"kind", p.kind},
                      {"source", p.source},         {"host", p.host},               {"size", p.size},
                      {"partial", p.partial}};
  put_time(j, "time", p.time);
  put_time(j, "data_time", p.data_time);
  return j;
}

nlohmann::json to_json(const VerificationRecord& v) {
  nlohmann::json j = {{"job_id", v.job_id == 0 ? nlohmann::json() : nlohmann::json(v.job_id)},
                      {"source", or_null(v.source)},
                      {"repository", or_null(v.repository)},
                      {"kind", v.kind},
                      {"ok", v.ok},
                      {"duration_s", v.duration_s},
                      {"detail", v.detail}};
  put_time(j, "time", v.time);
  return j;
}

nlohmann::json to_json(const DrillResultRecord& d) {
  auto opt = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
  nlohmann::json j = {{"drill", d.drill},
                      {"drill_id", d.drill_id},
                      {"component", d.component},
                      {"job_id", d.job_id == 0 ? nlohmann::json() : nlohmann::json(d.job_id)},
                      {"kind", d.kind},
                      {"source", d.source},
                      {"repository", or_null(d.repository)},
                      {"rto_s", d.rto_s},
                      {"rpo_s", opt(d.rpo_s)},
                      {"rto_objective_s", opt(d.rto_objective_s)},
                      {"rpo_objective_s", opt(d.rpo_objective_s)},
                      {"rto_ok", opt(d.rto_ok)},
                      {"rpo_ok", opt(d.rpo_ok)},
                      {"validated", d.validated},
                      {"passed", d.passed},
                      {"detail", d.detail}};
  put_time(j, "time", d.time);
  return j;
}

nlohmann::json to_json(const TokenRecord& t) {
  nlohmann::json j = {{"id", t.id}, {"name", t.name}, {"role", t.role}, {"revoked", t.revoked}};
  put_time(j, "created_at", t.created_at);
  put_time(j, "last_used_at", t.last_used_at);
  return j;
}

}  // namespace arca::server
