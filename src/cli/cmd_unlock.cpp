// `arca unlock`: what restic users type after a crash. Removes the prune lock and backup
// registrations (docs/retention.md) whose process is known to be gone on this host; with
// --remove-all also those of other hosts, which only the operator can know are gone.
#include <iostream>
#include <optional>

#include "cli/commands.h"
#include "ops/error_table.h"
#include "repo/prune.h"
#include "repo/writer_sessions.h"

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
    size_t removed = 0, kept = 0;
    for (const auto& w : list_writers(*repo)) {
      if (writer_is_stale(w) || (*all && !writer_is_running_here(w))) {
        remove_writer(*repo, w);
        removed++;
      } else {
        kept++;
        if (!g.quiet) std::cout << "kept: backup registration " << describe(w) << " (running, or on another host)\n";
      }
    }
    std::optional<WriterRecord> prune = prune_lock_holder(*repo);
    if (prune) {
      if (writer_is_stale(*prune) || (*all && !writer_is_running_here(*prune))) {
        PruneLock::force_remove(*repo);
        removed++;
      } else {
        kept++;
        if (!g.quiet) std::cout << "kept: prune lock " << describe(*prune) << " (running, or on another host)\n";
      }
    }
    if (g.json)
      print_json({{"removed", removed}, {"kept", kept}});
    else if (!g.quiet) {
      std::cout << "removed " << removed << (removed == 1 ? " stale lock" : " stale locks");
      if (kept) std::cout << "; use --remove-all for locks of processes you know are gone";
      std::cout << "\n";
    }
    return kExitOk;
  });
}

}  // namespace arca
