// Moved to repo/wal_names.h: WAL file names are part of the repository format (object names of
// the WAL family, retention by segment number). Kept so that existing includes still build.
#pragma once
#include "repo/wal_names.h"
