#include "server/sqlite_rows.h"

#include "util/error.h"

namespace arca::server::sqlite::rows {

namespace {

JobKind kind_of(const Db& db, const std::string& s) {
  if (auto k = parse_job_kind(s)) return *k;
  throw Error(ErrorKind::Corrupt, "catalog " + db.path() + ": unknown job kind '" + s + "'");
}
JobState state_of(const Db& db, const std::string& s) {
  if (auto k = parse_job_state(s)) return *k;
  throw Error(ErrorKind::Corrupt, "catalog " + db.path() + ": unknown job state '" + s + "'");
}

}  // namespace

JobRecord read_job(const Db& db, const Stmt& st) {
  JobRecord j;
  j.id = st.int64(0);
  j.plan = st.text(1);
  j.kind = kind_of(db, st.text(2));
  j.source = st.text(3);
  j.repository = st.text(4);
  j.state = state_of(db, st.text(5));
  j.trigger = st.text(6);
  j.scheduled_at = st.real(7);
  j.created_at = st.real(8);
  j.started_at = st.real(9);
  j.finished_at = st.real(10);
  j.start_deadline = st.real(11);
  j.complete_deadline = st.real(12);
  j.attempt = static_cast<int>(st.int64(13));
  j.retry_of = st.int64(14);
  j.owner = st.text(15);
  j.lease_until = st.real(16);
  j.reason = st.text(17);
  j.warnings = static_cast<int>(st.int64(18));
  j.snapshot_id = st.text(19);
  j.bytes_added = static_cast<uint64_t>(st.int64(20));
  if (!st.is_null(21)) {
    j.result = nlohmann::json::parse(st.text(21), nullptr, false);
    if (j.result.is_discarded())
      throw Error(ErrorKind::Corrupt, "catalog " + db.path() + ": job " + std::to_string(j.id) + " has a malformed result");
  }
  return j;
}

void bind_result(Stmt& st, int i, const nlohmann::json& result) {
  if (result.is_null())
    st.bind_null(i);
  else
    st.bind(i, result.dump());
}

EventLevel parse_level(const std::string& s) {
  if (s == "debug") return EventLevel::Debug;
  if (s == "warning") return EventLevel::Warning;
  if (s == "error") return EventLevel::Error;
  return EventLevel::Info;
}

std::string fields_json(const std::vector<std::pair<std::string, std::string>>& fields) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& [k, v] : fields) a.push_back({k, v});
  return a.dump();
}
std::vector<std::pair<std::string, std::string>> parse_fields(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  auto a = nlohmann::json::parse(text, nullptr, false);
  if (!a.is_array()) return out;
  for (const auto& p : a)
    if (p.is_array() && p.size() == 2 && p[0].is_string() && p[1].is_string())
      out.emplace_back(p[0].get<std::string>(), p[1].get<std::string>());
  return out;
}

RecoveryPointRecord read_point(const Stmt& st) {
  RecoveryPointRecord p;
  p.repository = st.text(0);
  p.snapshot_id = st.text(1);
  p.kind = st.text(2);
  p.source = st.text(3);
  p.host = st.text(4);
  p.time = st.real(5);
  p.data_time = st.real(6);
  p.size = static_cast<uint64_t>(st.int64(7));
  p.partial = st.int64(8) != 0;
  return p;
}

VerificationRecord read_verification(const Stmt& st) {
  VerificationRecord v;
  v.job_id = st.int64(0);
  v.source = st.text(1);
  v.repository = st.text(2);
  v.kind = st.text(3);
  v.time = st.real(4);
  v.ok = st.int64(5) != 0;
  v.duration_s = st.real(6);
  v.detail = st.text(7);
  return v;
}

DrillResultRecord read_drill_result(const Stmt& st) {
  DrillResultRecord d;
  d.drill_id = st.text(0);
  d.component = st.text(1);
  d.job_id = st.int64(2);
  d.drill = st.text(3);
  d.kind = st.text(4);
  d.source = st.text(5);
  d.repository = st.text(6);
  d.time = st.real(7);
  d.rto_s = st.real(8);
  if (!st.is_null(9)) d.rpo_s = st.real(9);
  if (!st.is_null(10)) d.rto_objective_s = st.int64(10);
  if (!st.is_null(11)) d.rpo_objective_s = st.int64(11);
  if (!st.is_null(12)) d.rto_ok = st.int64(12) != 0;
  if (!st.is_null(13)) d.rpo_ok = st.int64(13) != 0;
  d.validated = st.int64(14) != 0;
  d.passed = st.int64(15) != 0;
  d.detail = st.text(16);
  return d;
}

TokenRecord read_token(const Stmt& st) {
  TokenRecord t;
  t.id = st.text(0);
  t.name = st.text(1);
  t.role = st.text(2);
  t.hash = st.text(3);
  t.created_at = st.real(4);
  t.last_used_at = st.real(5);
  t.revoked = st.int64(6) != 0;
  return t;
}

PlanState read_plan_state(const Stmt& st) {
  PlanState s;
  s.plan = st.text(0);
  s.paused = st.int64(1) != 0;
  s.next_due = st.real(2);
  s.last_scheduled = st.real(3);
  s.config_hash = st.text(4);
  s.updated_at = st.real(5);
  return s;
}

std::string sql(std::initializer_list<std::string_view> parts) {
  std::string s;
  for (auto p : parts) s += p;
  return s;
}

}  // namespace arca::server::sqlite::rows
