// How the catalog's records are stored in SQLite rows: the column lists (in the order the
// read_* functions expect them) and the conversions both ways. Internal to sqlite_catalog.cpp.
#pragma once
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/catalog.h"
#include "server/sqlite_db.h"

namespace arca::server::sqlite::rows {

inline constexpr const char* kJobColumns =
    "id, plan, kind, source, repository, state, trigger, scheduled_at, created_at, started_at, finished_at, "
    "start_deadline, complete_deadline, attempt, retry_of, owner, lease_until, reason, warnings, snapshot_id, "
    "bytes_added, result";
inline constexpr const char* kPointColumns = "repository, snapshot_id, kind, source, host, time, data_time, size, partial";
inline constexpr const char* kVerificationColumns = "job_id, source, repository, kind, time, ok, duration_s, detail";
inline constexpr const char* kDrillColumns =
    "drill_id, component, job_id, drill, kind, source, repository, time, rto_s, rpo_s, rto_objective_s, "
    "rpo_objective_s, rto_ok, rpo_ok, validated, passed, detail";
inline constexpr const char* kTokenColumns = "id, name, role, hash, created_at, last_used_at, revoked";

// read_job throws Error(Corrupt) naming the catalog for a kind, state or result it cannot read.
JobRecord read_job(const Db& db, const Stmt& st);
RecoveryPointRecord read_point(const Stmt& st);
VerificationRecord read_verification(const Stmt& st);
DrillResultRecord read_drill_result(const Stmt& st);
TokenRecord read_token(const Stmt& st);
PlanState read_plan_state(const Stmt& st);

void bind_result(Stmt& st, int i, const nlohmann::json& result);  // a job's result: JSON text or NULL
EventLevel parse_level(const std::string& s);
// An event's fields as a JSON array of [key, value] pairs: their order and repeated keys survive.
std::string fields_json(const std::vector<std::pair<std::string, std::string>>& fields);
std::vector<std::pair<std::string, std::string>> parse_fields(const std::string& text);

// SQL text from parts (column lists spliced into statements).
std::string sql(std::initializer_list<std::string_view> parts);

}  // namespace arca::server::sqlite::rows
