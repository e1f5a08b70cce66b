// The SQLite catalog's schema: an ordered list of migrations, each taking PRAGMA user_version
// from i to i+1, applied in one transaction when the catalog is opened. docs/catalog.md
// describes every table; a new migration is appended, never an old one edited.
#pragma once
#include "server/sqlite_db.h"

namespace arca::server::sqlite {

// The schema version this build writes (the number of migrations).
int catalog_schema_version();

// The file's PRAGMA user_version.
int user_version(Db& db);

// Brings the file to catalog_schema_version(); refuses (Error(FormatVersion)) a file written by a
// newer version. Must be called outside a transaction.
void migrate(Db& db);

}  // namespace arca::server::sqlite
