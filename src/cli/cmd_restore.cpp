// `arca restore`: flags and printing; the work is ops::restore_files (ops/restore_files.h).
#include "cli/cli_job.h"
#include "cli/commands.h"
#include "cli/restore_print.h"
#include "ops/restore_files.h"

namespace arca {

void register_restore(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("restore", "Restore a snapshot (or chosen paths) into a directory");
  add_global_options(*cmd, g);
  auto req = std::make_shared<ops::RestoreFilesRequest>();
  RestoreOptions* a = &req->options;
  cmd->add_option("snapshot", req->snapshot,
                  "Snapshot id (or unique prefix), or 'latest' (the newest the selectors match)")
      ->required();
  add_snapshot_filter_options(*cmd, req->filter);
  // --to as in 'pg restore' and 'redis restore' (whose --target is the recovery target, as in pgBackRest).
  cmd->add_option("-t,--target,--to", a->target,
                  "Directory to restore into (created if missing; --to is the same). Existing files are updated "
                  "through a copy (only chunks that differ are written) that replaces them once complete; new "
                  "files appear under their names once complete")
      ->required();
  cmd->add_option("-i,--include", a->includes,
                  "Restore only paths matching this glob (a path in the snapshot like 'dir/sub', a path as backed "
                  "up like '/home/alice/dir/sub', or a name); repeatable")
      ->allow_extra_args(false);
  cmd->add_option("-e,--exclude", a->excludes, "Do not restore paths matching this glob; repeatable")
      ->allow_extra_args(false);
  cmd->add_flag("--delete", a->delete_extra,
                "Remove files in the target that the snapshot does not have (within restored directories), "
                "so the target ends up identical to the snapshot");
  cmd->add_flag("--verify", a->verify, "Re-read every restored file and compare it with the snapshot");
  cmd->add_flag("-n,--dry-run", a->dry_run, "Show what would be restored without writing anything");
  cmd->add_flag("--no-sparse", a->no_sparse,
                "Write runs of zeros as data instead of leaving holes (e.g. for swap files, which must have none)");
  cmd->add_option("--threads", a->threads, "Parallel restore threads (default: 2 × cores)")->check(CLI::Range(1, 256));
  set_command(*cmd, [&g, req] {
    auto repo = open_repository(g);
    Snapshot snap = ops::resolve_restore_point(*repo, *req);
    if (snap.partial && !g.quiet && !g.json) print_partial_warning(snap);
    ops::RestoreFilesResult r;
    {
      CliJob job(g);  // SIGINT/SIGTERM stop the restore cleanly; it says what it left
      job.show_progress(req->options.dry_run ? "planning" : "restore", "files");
      r = ops::restore_files(*repo, snap, *req, job.ctx());
    }
    if (g.json)
      print_json(r.to_json());
    else
      print_restore_report(r, g);
    print_restore_outcome(r, g, req->snapshot);
    return r.exit_code();
  });
}

}  // namespace arca
