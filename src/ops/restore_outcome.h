// The exit code of every restore's outcome (files, PostgreSQL, Redis): partial is 3, the others
// are their error kind's code in the one table (ops/error_table.h). Judged in restore/restore_outcome.h.
#pragma once
#include "restore/restore_outcome.h"

namespace arca::ops {

int restore_exit_code(RestoreOutcome o);

}  // namespace arca::ops
