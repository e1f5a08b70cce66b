// Drill records in the repository (docs/repository-format.md §15): each drill's JSON report,
// sealed and authenticated like every object, under drills/<64 hex>, never deleted — the history
// survives the loss of the server that ran the drills.
#pragma once
#include <string>
#include <vector>

#include "drill/drill_run.h"
#include "repo/repository.h"

namespace arca::drill {

// Stores the record (named by the result's id, which must be 64 hex digits).
void save_drill_record(Repository& repo, const DrillResult& r);
// Every record, oldest first; a record that cannot be read is skipped with a warning through
// the repository's warning handler, and counted in `unreadable` when given.
std::vector<DrillResult> list_drill_records(const Repository& repo, size_t* unreadable = nullptr);
// The record an id or unique prefix names; Error(NotFound) or Error(Usage) for an ambiguous prefix.
DrillResult load_drill_record(const Repository& repo, const std::string& ref);

}  // namespace arca::drill
