// `arca unlock`: what restic users type after a crash. Removes the prune lock and backup
// registrations (docs/retention.md) whose process is known to be gone on this host; with
// --remove-all also those of other hosts, which only the operator can know are gone.
#include <iostream>

#include "cli/cli_job.h"
#include "cli/commands.h"
#include "ops/error_table.h"
#include "ops/locks.h"

namespace arca {

void register_unlock(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("unlock",
                                 "Remove locks left by crashed commands: the prune lock and backup registrations whose "
                                 "process is gone on this host (--remove-all: also those of other hosts)");
  add_global_options(*cmd, g);
  auto all = std::make_shared<bool>(false);
  cmd->add_flag("--remove-all", *all,
                "Also remove locks held by other hosts (only when you know no arca runs there); a lock of a process "
                "running on this host is never removed");
  set_command(*cmd, [&g, all] {
    auto repo = open_repository(g);
    CliJob job(g);
    ops::UnlockResult r = ops::unlock(*repo, *all, job.ctx());
    if (g.json) {
      print_json(r.to_json());
    } else if (!g.quiet) {
      for (const auto& k : r.kept) std::cout << "kept: " << k << " (running, or on another host)\n";
      std::cout << "removed " << r.removed << (r.removed == 1 ? " stale lock" : " stale locks");
      if (!r.kept.empty()) std::cout << "; use --remove-all for locks of processes you know are gone";
      std::cout << "\n";
    }
    return kExitOk;
  });
}

}  // namespace arca
