// `arca prune`, shared with `arca forget --prune`: options, the run (packs, then the WAL
// archive), and its report.
#pragma once
#include <string>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/common.h"

namespace arca {

struct PruneArgs {
  std::string grace = "24h";
  std::string max_unused = "25%";
  bool dry_run = false;
};

// `prefix` is "--" for prune itself and "--prune-" inside forget.
void add_prune_options(CLI::App& cmd, PruneArgs& a, const std::string& prefix);
// Runs prune (taking the prune lock unless dry run) and prints its report (text unless `json`);
// returns the report as JSON.
nlohmann::json run_prune_command(const GlobalOptions& g, Repository& repo, const PruneArgs& a, bool json);

}  // namespace arca
