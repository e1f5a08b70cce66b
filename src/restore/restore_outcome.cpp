#include "restore/restore_outcome.h"

#include <algorithm>

namespace arca {

RestoreVerdict judge_restore(const RestoreResult& r, RestoreScope scope) {
  RestoreVerdict v;
  for (const auto& e : r.errors)
    if (e.source == RestoreProblemSource::Target)
      v.target_problems++;
    else if (std::find(v.damaged.begin(), v.damaged.end(), e.path) == v.damaged.end())
      v.damaged.push_back(e.path);
  // A stop or a full disk explains whatever else is missing; then a selection that found
  // nothing; then whose fault the problems are.
  if (r.interrupted)
    v.outcome = RestoreOutcome::Interrupted;
  else if (r.no_space)
    v.outcome = RestoreOutcome::NoSpace;
  else if (!r.unmatched_includes.empty())
    v.outcome = RestoreOutcome::NothingMatched;
  else if (scope == RestoreScope::AllOrNothing && !v.damaged.empty())
    v.outcome = RestoreOutcome::NothingRestored;
  else if (v.target_problems > 0)
    v.outcome = RestoreOutcome::TargetProblems;
  else if (!v.damaged.empty())
    v.outcome = r.files + r.dirs + r.symlinks > 0 ? RestoreOutcome::Partial : RestoreOutcome::NothingRestored;
  return v;
}

const char* restore_outcome_name(RestoreOutcome o) {
  switch (o) {
    case RestoreOutcome::Ok:
      return "ok";
    case RestoreOutcome::Partial:
      return "partial";
    case RestoreOutcome::NothingRestored:
      return "nothing_restored";
    case RestoreOutcome::TargetProblems:
      return "target_problems";
    case RestoreOutcome::NoSpace:
      return "no_space";
    case RestoreOutcome::NothingMatched:
      return "nothing_matched";
    case RestoreOutcome::Interrupted:
      return "interrupted";
  }
  return "ok";
}

std::optional<ErrorKind> restore_outcome_error(RestoreOutcome o) {
  switch (o) {
    case RestoreOutcome::Ok:
    case RestoreOutcome::Partial:
      return std::nullopt;
    case RestoreOutcome::NothingRestored:
      return ErrorKind::Corrupt;
    case RestoreOutcome::TargetProblems:
      return ErrorKind::Io;
    case RestoreOutcome::NoSpace:
      return ErrorKind::NoSpace;
    case RestoreOutcome::NothingMatched:
      return ErrorKind::NotFound;
    case RestoreOutcome::Interrupted:
      return ErrorKind::Cancelled;
  }
  return std::nullopt;
}

}  // namespace arca
