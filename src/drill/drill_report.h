// A drill's report for people: Markdown (for a ticket or a chat), and a self-contained HTML page
// (no scripts, no external assets) with a timeline of each component's phases and pass/fail
// against each objective. The JSON form is drill_run.h's to_json (docs/drills.md, "Report").
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "drill/drill_run.h"

namespace arca::drill {

// The JSON report (its schema: docs/drills.md), also the repository's drill record.
nlohmann::json to_json(const DrillResult& r);
DrillResult drill_result_from_json(const nlohmann::json& j);  // throws Error(Corrupt) on a bad document
std::string to_markdown(const DrillResult& r);
std::string to_html(const DrillResult& r);
// A duration as reports and reasons write it: "4.2 s", "16 min 12 s", "3 h 5 min".
std::string duration_text(double seconds);

}  // namespace arca::drill
