#include "drill/drill_record.h"

#include <algorithm>
#include <cctype>

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

std::vector<DrillResult> list_drill_records(const Repository& repo, size_t* unreadable) {
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
      repo.warning("drill record skipped: " + std::string(e.what()) + " ('arca check --read-data' checks every record)");
      if (unreadable) ++*unreadable;
    } catch (const nlohmann::json::exception& e) {
      repo.warning("drill record " + name + " skipped: not JSON (" + e.what() + ")");
      if (unreadable) ++*unreadable;
    }
  }
  std::sort(out.begin(), out.end(), [](const DrillResult& a, const DrillResult& b) { return a.started_at < b.started_at; });
  return out;
}

DrillResult load_drill_record(const Repository& repo, const std::string& given) {
  if (given.empty()) throw Error(ErrorKind::Usage, "no drill id given: 'arca drill list' shows them");
  // Ids are lowercase hex; one copied from elsewhere may not be.
  std::string ref = given;
  for (char& ch : ref) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  std::vector<std::string> matches, ids;
  repo.backend().list(names::kDrillsPrefix, [&](const ObjectInfo& o) {
    auto id = names::parse_drill_record(o.name);
    if (id && id->hex().rfind(ref, 0) == 0) matches.push_back(o.name), ids.push_back(id->hex().substr(0, 12));
  });
  if (matches.empty()) throw Error(ErrorKind::NotFound, "no drill record " + given + ": 'arca drill list' shows them");
  if (matches.size() > 1) {
    std::sort(ids.begin(), ids.end());
    std::string some;
    for (size_t i = 0; i < ids.size() && i < 5; ++i) some += (i ? ", " : "") + ids[i];
    throw Error(ErrorKind::Usage, "drill id prefix '" + given + "' names " + std::to_string(matches.size()) +
                                      " records (" + some + (ids.size() > 5 ? ", …" : "") + "): give more digits");
  }
  Bytes b = repo.load_object(matches.front());
  try {
    return drill_result_from_json(nlohmann::json::parse(b.begin(), b.end()));
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::Corrupt, "drill record " + matches.front() + " is not JSON: " + e.what());
  }
}

}  // namespace arca::drill
