// `arca prune`, shared with `arca forget --prune`: options, the run (ops/prune.h) and its report.
#pragma once
#include <string>
#include <CLI/CLI.hpp>

#include "cli/cli_job.h"
#include "cli/common.h"
#include "ops/prune.h"

namespace arca {

// `prefix` is "--" for prune itself and "--prune-" inside forget.
void add_prune_options(CLI::App& cmd, ops::PruneRequest& a, const std::string& prefix);
// Runs prune in `job` (progress on the terminal) and prints its report unless `json`; throws the
// damage error (exit 12) after printing when not `json`.
ops::PruneResult run_prune_command(const GlobalOptions& g, CliJob& job, Repository& repo, const ops::PruneRequest& a,
                                   bool json);

}  // namespace arca
