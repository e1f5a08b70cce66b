#include <iostream>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/progress_display.h"
#include "sources/files/restore.h"

namespace arca {

void register_restore(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("restore", "Restore a snapshot (or chosen paths) into a directory");
  add_global_options(*cmd, g);
  auto a = std::make_shared<RestoreOptions>();
  auto snapshot = std::make_shared<std::string>();
  auto filter = std::make_shared<SnapshotFilter>();
  cmd->add_option("snapshot", *snapshot, "Snapshot id (or unique prefix), or 'latest' (the newest the selectors match)")
      ->required();
  add_snapshot_filter_options(*cmd, *filter);
  cmd->add_option("-t,--target", a->target,
                  "Directory to restore into (created if missing). Existing files are updated in place: "
                  "only chunks that differ are written")
      ->required();
  cmd->add_option("-i,--include", a->includes,
                  "Restore only paths matching this glob (a path in the snapshot like 'dir/sub', or a name); "
                  "repeatable")
      ->allow_extra_args(false);
  cmd->add_option("-e,--exclude", a->excludes, "Do not restore paths matching this glob; repeatable")
      ->allow_extra_args(false);
  cmd->add_flag("--delete", a->delete_extra,
                "Remove files in the target that the snapshot does not have (within restored directories), "
                "so the target ends up identical to the snapshot");
  cmd->add_flag("--verify", a->verify, "Re-read every restored file and compare it with the snapshot");
  cmd->add_flag("-n,--dry-run", a->dry_run, "Show what would be restored without writing anything");
  cmd->add_option("--threads", a->threads, "Parallel restore threads (default: 2 × cores)")->check(CLI::Range(1, 256));
  set_command(*cmd, [&g, a, snapshot, filter] {
    auto repo = open_repository(g);
    Snapshot snap = resolve_snapshot(*repo, *snapshot, *filter);
    ProgressCounters progress;
    RestoreResult r;
    {
      ProgressDisplay display(progress, a->dry_run ? "planning" : "restore", "files", show_progress(g));
      r = restore_files(*repo, snap, *a, progress);
    }
    if (g.json) {
      nlohmann::json errs = nlohmann::json::array(), warns = nlohmann::json::array();
      for (const auto& e : r.errors) errs.push_back({{"path", e.path}, {"message", e.message}});
      for (const auto& e : r.warnings) warns.push_back({{"path", e.path}, {"message", e.message}});
      print_json({{"snapshot", snap.id.hex()}, {"target", a->target}, {"dry_run", a->dry_run},
                  {"files", r.files}, {"dirs", r.dirs}, {"symlinks", r.symlinks}, {"hardlinks", r.hardlinks},
                  {"bytes", r.bytes}, {"bytes_written", r.bytes_written}, {"files_unchanged", r.files_unchanged}, {"deleted", r.deleted_paths},
                  {"verified", a->verify}, {"files_verified", r.files_verified}, {"duration_s", r.duration_s},
                  {"errors", errs}, {"warnings", warns}});
    } else {
      for (const auto& e : r.warnings)
        if (!g.quiet) std::cerr << "warning: " << e.path << ": " << e.message << "\n";
      for (const auto& e : r.errors) std::cerr << "error: " << e.path << ": " << e.message << "\n";
      if (!g.quiet) {
        double rate = r.duration_s > 0 ? double(r.bytes) / r.duration_s : 0;
        std::cout << (a->dry_run ? "would restore " : "restored ") << r.files << " files (" << human_bytes(r.bytes)
                  << "), " << r.dirs << " dirs, " << r.symlinks << " symlinks, " << r.hardlinks << " hard links";
        if (!a->dry_run)
          std::cout << " from snapshot " << snap.id.short_hex() << " to " << a->target << " in "
                    << human_duration(r.duration_s) << " (" << human_bytes(uint64_t(rate)) << "/s)\n"
                    << "  wrote " << human_bytes(r.bytes_written) << "; " << r.files_unchanged
                    << " existing files were already up to date";
        if (a->delete_extra)
          std::cout << (a->dry_run ? "; would delete " : "; deleted ") << r.deleted_paths.size() << " extra entries";
        std::cout << "\n";
        if (a->dry_run)
          for (const auto& p : r.deleted_paths) std::cout << "  would delete " << p << "\n";
        if (a->verify) std::cout << "  verified " << r.files_verified << " files against the snapshot\n";
      }
    }
    if (r.no_space) {
      std::cerr << "the target filesystem is full: free space (or choose another --target) and run the same "
                   "restore again; files already restored correctly will not be rewritten\n";
      return kExitNoSpace;
    }
    if (!r.errors.empty()) {
      if (!g.json)
        std::cerr << r.errors.size() << " file(s) could not be restored correctly; run 'arca check --read-data' "
                  << "to see all damage\n";
      return kExitPartial;
    }
    return kExitOk;
  });
}

}  // namespace arca
