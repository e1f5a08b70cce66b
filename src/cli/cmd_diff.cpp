#include <iostream>

#include "cli/cli_job.h"
#include "cli/commands.h"
#include "ops/diff.h"
#include "ops/error_table.h"
#include "util/name_format.h"

namespace arca {

void register_diff(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("diff", "Show what changed between two snapshots");
  add_global_options(*cmd, g);
  auto ids = std::make_shared<std::pair<std::string, std::string>>();
  auto filter = std::make_shared<SnapshotFilter>();
  cmd->add_option("from", ids->first,
                  "Older snapshot: id (or unique prefix), or 'latest' (the newest the selectors match)")
      ->required();
  cmd->add_option("to", ids->second, "Newer snapshot: id (or unique prefix), or 'latest'")->required();
  add_snapshot_filter_options(*cmd, *filter);
  set_command(*cmd, [&g, ids, filter] {
    auto repo = open_repository(g);
    CliJob job(g);
    JobContext& ctx = job.ctx();
    ops::DiffResult r = ops::diff(*repo, {ids->first, ids->second, *filter}, ctx);
    if (g.json) {
      print_json(r.to_json());
      return kExitOk;
    }
    for (const auto& c : r.changes) std::cout << c.change << "  " << escape_name(c.path) << "\n";
    std::cout << "\n"
              << r.added << " added, " << r.removed << " removed, " << r.modified << " modified, " << r.metadata_changed
              << " with changed metadata only\n";
    return kExitOk;
  });
}

}  // namespace arca
