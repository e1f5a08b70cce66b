// The API's JSON for the catalog's records and the scheduler's plan views: one spelling shared by
// the HTTP API, `arca jobs|plans --json` and docs/openapi.yaml. Every time is given twice: the
// field itself as RFC 3339 UTC text ("started_at": "2026-11-25T15:04:05Z") and `<field>_unix`
// as unix seconds; an unset time (0) is null in both. States are upper case (state_label).
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "server/catalog.h"
#include "server/scheduler.h"

namespace arca::server {

// "2026-11-25T15:04:05Z" (whole seconds, UTC); "" for 0 or a time outside years 1..9999.
std::string rfc3339(double unix_seconds);
// Sets j[name] and j[name + "_unix"] as described above.
void put_time(nlohmann::json& j, const std::string& name, double unix_seconds);

nlohmann::json to_json(const JobRecord& j);
nlohmann::json to_json(const JobEvent& e);
nlohmann::json to_json(const PlanView& p);
nlohmann::json to_json(const RecoveryPointRecord& p);
nlohmann::json to_json(const VerificationRecord& v);
nlohmann::json to_json(const DrillResultRecord& d);
nlohmann::json to_json(const TokenRecord& t);  // never the hash

}  // namespace arca::server
