#include "ops/restore_outcome.h"

#include "ops/error_table.h"

namespace arca::ops {

int restore_exit_code(RestoreOutcome o) {
  if (o == RestoreOutcome::Partial) return kExitPartial;
  auto kind = restore_outcome_error(o);
  return kind ? exit_code_for(*kind) : kExitOk;
}

}  // namespace arca::ops
