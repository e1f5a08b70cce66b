// What a tree restore's result amounts to, decided in one place for every restore (files, a
// PostgreSQL cluster, a Redis data set): the operation layer maps an outcome to its exit code
// (ops/restore_outcome.h), sources that must not leave a partial result throw its error kind.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "restore/restore.h"
#include "util/error.h"

namespace arca {

enum class RestoreOutcome {
  Ok,
  Partial,          // damaged data kept some entries out; the rest is restored (exit 3)
  NothingRestored,  // damaged data kept everything out (exit 12)
  TargetProblems,   // the target refused entries: permissions, read-only, a name clash (exit 1)
  NoSpace,          // the target filesystem is full (exit 13)
  NothingMatched,   // an --include matched nothing (exit 10)
  Interrupted,      // cancelled; unfinished files removed (exit 130)
};

// Files restore everything they can (best effort); a cluster or a data set is usable only whole,
// so any damage makes it unusable, whatever else went wrong (all or nothing).
enum class RestoreScope { BestEffort, AllOrNothing };

struct RestoreVerdict {
  RestoreOutcome outcome = RestoreOutcome::Ok;
  std::vector<std::string> damaged;  // paths damaged in the repository, each once, in order
  size_t target_problems = 0;        // entries the target refused
};

RestoreVerdict judge_restore(const RestoreResult& r, RestoreScope scope = RestoreScope::BestEffort);

// Stable name for JSON and the API ("partial", "target_problems", ...).
const char* restore_outcome_name(RestoreOutcome o);

// The error kind an unsuccessful outcome is reported with; none for Ok and Partial.
std::optional<ErrorKind> restore_outcome_error(RestoreOutcome o);

}  // namespace arca
