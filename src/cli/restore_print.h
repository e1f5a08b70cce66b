// How `arca restore` reports: the partial-point warning before, the summary, and what each
// outcome means for the person at the terminal (the exit code is the outcome's: ops/restore_outcome.h).
#pragma once
#include <string>

#include "cli/common.h"
#include "ops/restore_files.h"

namespace arca {

// A partial point lacks files its backup could not read: say so before restoring it.
void print_partial_warning(const Snapshot& snap);
// Warnings, errors and the summary (human output; --json prints r.to_json()).
void print_restore_report(const ops::RestoreFilesResult& r, const GlobalOptions& g);
// What the outcome means and what to do, on stderr; `snapshot_arg` as given ("latest" gets a hint).
void print_restore_outcome(const ops::RestoreFilesResult& r, const GlobalOptions& g, const std::string& snapshot_arg);

}  // namespace arca
