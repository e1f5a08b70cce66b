// Where `arca pg restore` puts each tablespace. The locations a recovery point records are
// untrusted (a key holder or a hostile server wrote them), so they are used only when the
// operator maps each tablespace (--tablespace-map OID=DIR, --tablespace-map-all DIR) or confirms
// the recorded ones (--tablespace-map-all-original); see docs/security.md, "PostgreSQL restores".
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "repo/snapshot.h"

namespace arca {

struct TablespaceChoice {
  std::map<std::string, std::string> map;  // OID -> directory
  std::string map_all;                     // the tablespaces not in `map` go to <map_all>/<OID>
  bool all_original = false;               // the tablespaces not in `map` go where the point says
};

struct TablespacePlacement {
  std::string oid, location;  // location: absolute and normalised
};

// The tablespaces a base backup records as (OID, location); Error(Corrupt) if the metadata is
// malformed or an OID is not all digits (it becomes a path component).
std::vector<std::pair<std::string, std::string>> recorded_tablespaces(const Snapshot& snap);

// Chooses and checks every location: each recorded tablespace must be placed by `choice`
// (Error(Usage), exit 2, listing the recorded locations and the flags otherwise); locations are
// absolute, normalised, not "/", and overlap neither `data_dir` nor each other. Whether each is
// empty, and not in use, is the caller's check (the same as for the data directory).
std::vector<TablespacePlacement> place_tablespaces(const Snapshot& snap, const TablespaceChoice& choice,
                                                   const std::string& data_dir);

}  // namespace arca
