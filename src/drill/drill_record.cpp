#include "drill/drill_record.h"

#include <algorithm>

#include "drill/drill_report.h"
#include "repo/object_names.h"
#include "util/error.h"

namespace arca::drill {

void save_drill_record(Repository& repo, const DrillResult& r) {
  const Id id = Id::from_hex(r.id);  // throws Error(Usage) unless 64 hex digits
  std::string text = to_json(r).dump();
  // Create-if-absent: a record is never replaced, also with an append-only key.
  if (!repo.save_object_if_absent(names::drill_record(id), as_view(text)))
    throw Error(ErrorKind::Refused, "a drill record " + r.id + " already exists");
}

std::vector<DrillResult> list_drill_records(const Repository& repo) {
  std::vector<std::string> found;
  repo.backend().list(names::kDrillsPrefix, [&](const ObjectInfo& o) {
    if (names::parse_drill_record(o.name)) found.push_back(o.name);
  });
  std::vector<DrillResult> out;
  for (const auto& name : found) {
    try {
      Bytes b = repo.load_object(name);
      out.push_back(drill_result_from_json(nlohmann::json::parse(b.begin(), b.end())));
    } catch (const Error& e) {
      repo.warning("drill record " + name + " skipped: " + e.what());
    } catch (const nlohmann::json::exception& e) {
      repo.warning("drill record " + name + " skipped: not JSON (" + e.what() + ")");
    }
  }
  std::sort(out.begin(), out.end(), [](const DrillResult& a, const DrillResult& b) { return a.started_at < b.started_at; });
  return out;
}

DrillResult load_drill_record(const Repository& repo, const std::string& ref) {
  std::vector<std::string> matches;
  repo.backend().list(names::kDrillsPrefix, [&](const ObjectInfo& o) {
    auto id = names::parse_drill_record(o.name);
    if (id && id->hex().rfind(ref, 0) == 0) matches.push_back(o.name);
  });
  if (ref.empty() || matches.empty())
    throw Error(ErrorKind::NotFound, "no drill record " + ref + ": 'arca drill list' shows them");
  if (matches.size() > 1)
    throw Error(ErrorKind::Usage, "drill id prefix '" + ref + "' names " + std::to_string(matches.size()) +
                                      " records: give more digits");
  Bytes b = repo.load_object(matches.front());
  try {
    return drill_result_from_json(nlohmann::json::parse(b.begin(), b.end()));
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::Corrupt, "drill record " + matches.front() + " is not JSON: " + e.what());
  }
}

}  // namespace arca::drill
