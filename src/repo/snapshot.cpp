#include "repo/snapshot.h"

#include <algorithm>

#include "repo/config.h"
#include "repo/json_int.h"
#include "repo/snapshot_filter.h"
#include "util/clock.h"
#include "util/error.h"

namespace arca {

using nlohmann::json;

json Snapshot::to_json() const {
  json s = {{"files", stats.files},
            {"dirs", stats.dirs},
            {"symlinks", stats.symlinks},
            {"files_new", stats.files_new},
            {"files_changed", stats.files_changed},
            {"files_unchanged", stats.files_unchanged},
            {"bytes", stats.bytes},
            {"bytes_read", stats.bytes_read},
            {"blobs_added", stats.blobs_added},
            {"bytes_added", stats.bytes_added},
            {"stored_added", stats.stored_added},
            {"skipped", stats.skipped},
            {"special", stats.special},
            {"duration_s", stats.duration_s}};
  json w = json::array();
  for (const auto& x : warnings) w.push_back({{"path", x.path}, {"message", x.message}});
  json j = {{"id", id.hex()},
            {"time", time},
            {"host", host},
            {"user", user},
            {"source", {{"kind", source_kind}, {"name", source_name}}},
            {"paths", paths},
            {"tags", tags},
            {"tree", tree.hex()},
            {"stats", s},
            {"warnings", w},
            {"partial", partial},
            {"metadata", metadata},
            {"program_version", program_version}};
  j["parent"] = parent ? json(parent->hex()) : json(nullptr);
  if (!key_id.empty()) j["key_id"] = key_id;
  return j;
}

std::string Snapshot::canonical_text(json j) {
  if (j.is_object()) j.erase("signature");
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Snapshot Snapshot::from_json(const json& j, const Id& id) {
  try {
    Snapshot s;
    s.id = id;
    // Read as UTC: every listing, sort and comparison of times is then right (see docs/security.md).
    s.time = utc_time(j.at("time").get<std::string>());
    s.host = trim_space(j.value("host", ""));  // older versions stored --host ' vm' as given
    s.user = j.value("user", "");
    s.source_kind = j.at("source").at("kind");
    s.source_name = j.at("source").value("name", "");
    s.paths = j.value("paths", std::vector<std::string>{});
    // Older versions stored "--tag a,b" as one tag "a,b", shown exactly like two tags: read it as
    // the two tags the operator meant, so --keep-tag a keeps it.
    for (const std::string& given : j.value("tags", std::vector<std::string>{}))
      for (size_t start = 0, comma = 0; comma != std::string::npos; start = comma + 1) {
        comma = given.find(',', start);
        std::string tag =
            trim_space(given.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (!tag.empty() && std::find(s.tags.begin(), s.tags.end(), tag) == s.tags.end()) s.tags.push_back(tag);
      }
    if (j.contains("parent") && !j["parent"].is_null()) s.parent = Id::from_hex(j["parent"].get<std::string>());
    s.tree = Id::from_hex(j.at("tree").get<std::string>());
    const json& st = j.at("stats");
    // Counts only: nlohmann would cast a float like 1e300 to an integer (undefined behaviour).
    auto u = [&](const char* k) {
      if (!st.contains(k)) return uint64_t(0);
      const json& v = st.at(k);
      if (auto n = json_integer<uint64_t>(v)) return *n;
      throw Error(ErrorKind::Corrupt, "snapshot " + id.short_hex() + " is malformed: stats." + k + " is not a count");
    };
    s.stats = {u("files"),
               u("dirs"),
               u("symlinks"),
               u("files_new"),
               u("files_changed"),
               u("files_unchanged"),
               u("bytes"),
               u("bytes_read"),
               u("blobs_added"),
               u("bytes_added"),
               u("stored_added"),
               u("skipped"),
               st.value("duration_s", 0.0),
               u("special")};
    for (const auto& w : j.value("warnings", json::array())) s.warnings.push_back({w.at("path"), w.at("message")});
    s.partial = j.value("partial", false);
    s.metadata = j.value("metadata", json::object());
    s.program_version = j.value("program_version", "");
    s.key_id = j.value("key_id", "");
    if (j.contains("signature")) {
      s.signature = j.at("signature").get<std::string>();
      // A signed point copied under another name is not the point that was signed.
      if (j.value("id", "") == id.hex()) s.signed_text = canonical_text(j);
    }
    return s;
  } catch (const json::exception& e) {
    throw Error(ErrorKind::Corrupt, "snapshot " + id.short_hex() + " is malformed: " + e.what());
  }
}

}  // namespace arca
