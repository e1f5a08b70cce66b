// Moved to repo/wal_retention.h: the WAL family's retention is registered with the other object
// families (repo/object_families.h). Kept so that existing includes still build.
#pragma once
#include "repo/wal_retention.h"
