// Recreates the catalog's recovery points and drill results from the repositories themselves (the catalog is a
// cache: DESIGN.md, principle 1). Called by `arca server catalog rebuild` and by the server at
// its first start on an empty catalog.
#pragma once
#include <string>
#include <vector>

#include "server/catalog.h"
#include "server/config.h"
#include "util/error.h"

namespace arca::server {

struct RepositoryRebuild {
  std::string repository;  // the configured name
  bool ok = false;
  size_t points = 0;                         // ok: how many the catalog now holds for it
  size_t drills = 0;                         // ok: drill records read back (their results added)
  ErrorKind error_kind = ErrorKind::Generic;  // !ok: why it could not be read
  std::string error;
};

// For each configured repository: open it, list its recovery points and make them the catalog's
// set for that repository (replace_points), and add the results of its drill records. A
// repository that cannot be opened or listed is reported in its entry, its catalog points left as
// they were, and the others still rebuilt.
std::vector<RepositoryRebuild> rebuild_points(const ServerConfig& config, Catalog& catalog);

}  // namespace arca::server
