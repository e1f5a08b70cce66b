#include "sources/postgres/tablespace_map.h"

#include <sys/stat.h>

#include <filesystem>

#include "sources/postgres/cluster_safety.h"
#include "util/error.h"

namespace arca {

std::vector<std::pair<std::string, std::string>> recorded_tablespaces(const Snapshot& snap) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!snap.metadata.contains("tablespaces")) return out;
  const auto& v =
      snap.metadata["tablespaces"].contains("value") ? snap.metadata["tablespaces"]["value"] : nlohmann::json();
  auto bad = [&](const std::string& why) {
    throw Error(ErrorKind::Corrupt, "snapshot " + snap.id.short_hex() + ": the tablespace list " + why);
  };
  if (v.is_null()) return out;
  if (!v.is_array()) bad("is not a list");
  for (const auto& t : v) {
    if (!t.is_object() || !t.contains("oid") || !t["oid"].is_string() || !t.contains("location") ||
        !t["location"].is_string())
      bad("has an entry without a string OID and location");
    std::string oid = t["oid"].get<std::string>();
    if (!is_tablespace_oid(oid)) bad("names tablespace OID '" + oid + "', which is not a number");
    for (const auto& [o, l] : out)
      if (o == oid) bad("lists tablespace " + oid + " twice");
    out.emplace_back(oid, t["location"].get<std::string>());
  }
  return out;
}

static std::string normal_absolute(const std::string& p) {
  std::string s = std::filesystem::absolute(p).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// a == b, or one inside the other.
static bool overlap(const std::string& a, const std::string& b) {
  auto inside = [](const std::string& x, const std::string& y) {
    return x == y || y == "/" || x.rfind(y + "/", 0) == 0;
  };
  return inside(a, b) || inside(b, a);
}

std::vector<TablespacePlacement> place_tablespaces(const Snapshot& snap, const TablespaceChoice& choice,
                                                   const std::string& data_dir) {
  auto recorded = recorded_tablespaces(snap);
  for (const auto& [oid, dir] : choice.map) {
    bool known = false;
    for (const auto& r : recorded) known |= r.first == oid;
    if (!known)
      throw Error(ErrorKind::Usage, "--tablespace-map " + oid + ": the backup has no tablespace with that OID");
  }
  std::vector<TablespacePlacement> out;
  std::string unplaced;
  for (const auto& [oid, loc] : recorded) {
    if (auto it = choice.map.find(oid); it != choice.map.end()) {
      out.push_back({oid, normal_absolute(it->second)});
    } else if (!choice.map_all.empty()) {
      out.push_back({oid, normal_absolute(choice.map_all + "/" + oid)});
    } else if (choice.all_original) {
      // PostgreSQL records canonical absolute paths; anything else was not written by it.
      if (loc.empty() || loc[0] != '/' || normal_absolute(loc) != loc)
        throw Error(ErrorKind::Usage, "tablespace " + oid + ": the recorded location '" + loc +
                                          "' is not a normalised absolute path and cannot be used as it is: map it "
                                          "with --tablespace-map " +
                                          oid + "=DIR");
      out.push_back({oid, loc});
    } else {
      unplaced += "\n    " + oid + " at " + loc;
    }
  }
  if (!unplaced.empty())
    throw Error(ErrorKind::Usage,
                "base backup " + snap.id.short_hex() +
                    " has tablespaces; their recorded locations are not used "
                    "unless you say so (a recovery point could name any directory):" +
                    unplaced +
                    "\n  put each where it belongs with --tablespace-map OID=DIR (or all under one directory with "
                    "--tablespace-map-all DIR), or confirm the recorded locations with --tablespace-map-all-original");
  // Compared as written and as resolved: a symlink among the existing directories (/x/tsl -> the
  // data directory) must not put a tablespace inside the data directory (see docs/security.md).
  const std::string real_data = resolve_existing_prefix(data_dir);
  std::vector<std::string> real(out.size());
  for (size_t i = 0; i < out.size(); i++) {
    const auto& [oid, loc] = out[i];
    real[i] = resolve_existing_prefix(loc);
    if (loc == "/" || real[i] == "/")
      throw Error(ErrorKind::Usage,
                  "tablespace " + oid + " location / cannot be used: map it with --tablespace-map " + oid + "=DIR");
    struct stat st;
    if (lstat(loc.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
      throw Error(ErrorKind::Usage, "tablespace " + oid + " location " + loc + " is a symlink (to " + real[i] +
                                        "): give the directory itself with --tablespace-map " + oid + "=DIR");
    if (overlap(loc, data_dir) || overlap(real[i], real_data))
      throw Error(ErrorKind::Usage, "tablespace " + oid + " location " + loc + " and the data directory " + data_dir +
                                        " overlap: map the tablespace elsewhere with --tablespace-map " + oid + "=DIR");
    for (size_t j = 0; j < i; j++)
      if (overlap(loc, out[j].location) || overlap(real[i], real[j]))
        throw Error(ErrorKind::Usage, "tablespace " + oid + " location " + loc + " and tablespace " + out[j].oid +
                                          " location " + out[j].location +
                                          " overlap: give each its own directory with --tablespace-map OID=DIR");
  }
  return out;
}

}  // namespace arca
