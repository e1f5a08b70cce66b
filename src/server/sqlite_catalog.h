// What only the SQLite catalog can tell (catalog.h's open_sqlite_catalog opens it): its schema
// version and size, for `arca server catalog info` and for operators (docs/catalog.md).
#pragma once
#include <cstdint>
#include <map>
#include <string>

namespace arca::server {

struct SqliteCatalogInfo {
  std::string path;
  int schema_version = 0;          // the file's
  int supported_version = 0;       // this build's
  std::map<std::string, int64_t> rows;  // per table
  uint64_t file_bytes = 0;         // the file with its -wal
};

// Reads an existing catalog without changing it (no migration, no file created): NotFound when
// there is none at `path`, Corrupt when it is not a catalog.
SqliteCatalogInfo sqlite_catalog_info(const std::string& path);

}  // namespace arca::server
