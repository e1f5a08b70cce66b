#include <signal.h>

#include <algorithm>
#include <atomic>
#include <iostream>

#include "cli/commands.h"
#include "ops/error_table.h"
#include "cli/progress_display.h"
#include "restore/restore.h"

namespace arca {

namespace {

// SIGINT/SIGTERM set a flag the restore polls: it stops cleanly and says what it left. A second
// signal ends the process at once (the handler resets itself).
std::atomic<bool> g_stop{false};

class StopOnSignal {
 public:
  StopOnSignal() {
    struct sigaction sa {};
    sa.sa_handler = [](int) { g_stop = true; };
    sa.sa_flags = SA_RESTART | SA_RESETHAND;
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopOnSignal() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  const std::atomic<bool>& flag() const { return g_stop; }

 private:
  struct sigaction old_int_ {
  }, old_term_{};
};

std::string plural(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// A partial point lacks files its backup could not read: say so before restoring it.
void print_partial_warning(const Snapshot& snap) {
  std::cerr << "warning: snapshot " << snap.id.short_hex() << " is partial: its backup could not store "
            << plural(snap.warnings.size(), "entry", "entries") << ", which this restore cannot bring back";
  size_t shown = 0;
  for (const auto& w : snap.warnings) {
    if (shown++ == 10) {
      std::cerr << "\n  … and " << snap.warnings.size() - 10 << " more (arca cat snapshot " << snap.id.short_hex()
                << ")";
      break;
    }
    std::cerr << "\n  not backed up: " << w.path << ": " << w.message;
  }
  std::cerr << "\n";
}

void print_summary(const RestoreResult& r, const RestoreOptions& a, const Snapshot& snap) {
  if (r.interrupted) return;  // restore_exit says what was done
  double rate = r.duration_s > 0 ? double(r.bytes) / r.duration_s : 0;
  std::cout << (a.dry_run ? "would restore " : "restored ") << plural(r.files, "file", "files") << " ("
            << human_bytes(r.bytes) << "), " << plural(r.dirs, "dir", "dirs") << ", "
            << plural(r.symlinks, "symlink", "symlinks") << ", " << plural(r.hardlinks, "hard link", "hard links");
  if (r.specials) std::cout << ", " << plural(r.specials, "special file", "special files") << " (FIFO, socket, device)";
  if (!a.dry_run)
    std::cout << " from snapshot " << snap.id.short_hex() << " to " << a.target << " in "
              << human_duration(r.duration_s) << " (" << human_bytes(uint64_t(rate)) << "/s)";
  std::cout << "\n  " << (a.dry_run ? "would write " : "wrote ") << human_bytes(r.bytes_written) << ": " << r.files_new
            << " new, " << r.files_replaced << " replaced, " << r.files_unchanged << " unchanged";
  if (a.delete_extra)
    std::cout << (a.dry_run ? "; would delete " : "; deleted ")
              << plural(r.deleted_paths.size(), "extra entry", "extra entries");
  std::cout << "\n";
  if (a.dry_run) {
    for (const auto& p : r.replaced_paths) std::cout << "  would replace " << p << "\n";
    for (const auto& p : r.deleted_paths) std::cout << "  would delete " << p << "\n";
  }
  if (a.verify) std::cout << "  verified " << r.files_verified << " files against the snapshot\n";
}

// One exit code per outcome: a stop, a full disk, a selection that found nothing, the target's
// fault (not the repository's), damage in the repository.
int restore_exit(const RestoreResult& r, const RestoreOptions& a, const Snapshot& snap, const GlobalOptions& g,
                 const std::string& snapshot_arg) {
  if (r.interrupted) {
    std::cerr << "interrupted: " << plural(r.files, "file", "files") << " restored, "
              << plural(r.unfinished_removed, "unfinished file", "unfinished files") << " removed";
    std::cerr << "; run the same restore again to complete it\n";
    return kExitInterrupted;
  }
  if (r.no_space) {
    std::cerr << "the target filesystem is full: free space (or choose another --target) and run the same "
                 "restore again; files already restored correctly will not be rewritten\n";
    return kExitNoSpace;
  }
  if (!r.unmatched_includes.empty()) {
    std::string paths;
    for (const auto& p : snap.paths) paths += (paths.empty() ? "" : ", ") + p;
    for (const auto& i : r.unmatched_includes) std::cerr << "error: --include '" << i << "' matched nothing\n";
    std::cerr << "  in snapshot " << snap.id.short_hex() << " of " << short_time(snap.time) << " UTC, host "
              << snap.host << ", paths " << paths << "\n  (list its contents with 'arca ls " << snap.id.short_hex()
              << "'";
    if (snapshot_arg == "latest")
      std::cerr << "; 'latest' is the newest point of any backup job: name the point by id, or select it with --path, "
                   "--host or --tag";
    std::cerr << ")\n";
    return kExitNotFound;
  }
  size_t target = 0;
  std::vector<std::string> damaged;  // each path once
  for (const auto& e : r.errors)
    if (e.source == RestoreProblemSource::Target)
      target++;
    else if (std::find(damaged.begin(), damaged.end(), e.path) == damaged.end())
      damaged.push_back(e.path);
  if (!g.json && !damaged.empty()) {
    std::cerr << plural(damaged.size(), "entry is", "entries are") << " damaged in the repository and "
              << (damaged.size() == 1 ? "was" : "were") << " not restored";
    for (size_t i = 0; i < damaged.size() && i < 10; i++) std::cerr << (i ? ", " : ": ") << damaged[i];
    if (damaged.size() > 10) std::cerr << " …";
    std::cerr << " (an existing file of that name in the target is left as it was); "
                 "run 'arca check --read-data' to see all damage\n";
  }
  if (!g.json && target > 0)
    std::cerr << plural(target, "entry", "entries") << " could not be written to the target " << a.target
              << " (see the errors above: permissions, a read-only filesystem, a name clash); "
              << "the repository is not at fault\n";
  if (target > 0) return kExitError;
  if (!damaged.empty()) return r.files + r.dirs + r.symlinks > 0 ? kExitPartial : kExitCorrupt;
  return kExitOk;
}

}  // namespace

void register_restore(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("restore", "Restore a snapshot (or chosen paths) into a directory");
  add_global_options(*cmd, g);
  auto a = std::make_shared<RestoreOptions>();
  auto snapshot = std::make_shared<std::string>();
  auto filter = std::make_shared<SnapshotFilter>();
  cmd->add_option("snapshot", *snapshot, "Snapshot id (or unique prefix), or 'latest' (the newest the selectors match)")
      ->required();
  add_snapshot_filter_options(*cmd, *filter);
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
  set_command(*cmd, [&g, a, snapshot, filter] {
    auto repo = open_repository(g);
    Snapshot snap = resolve_snapshot(*repo, *snapshot, *filter);
    if (snap.partial && !g.quiet && !g.json) print_partial_warning(snap);
    ProgressCounters progress;
    RestoreResult r;
    {
      ProgressDisplay display(progress, a->dry_run ? "planning" : "restore", "files", show_progress(g));
      StopOnSignal stop;
      a->cancel = &stop.flag();
      r = restore_files(*repo, snap, *a, progress);
    }
    if (g.json) {
      nlohmann::json errs = nlohmann::json::array(), warns = nlohmann::json::array(), partial = nlohmann::json::array();
      for (const auto& e : r.errors)
        errs.push_back({{"path", e.path},
                        {"message", e.message},
                        {"source", e.source == RestoreProblemSource::Repository ? "repository" : "target"}});
      for (const auto& e : r.warnings) warns.push_back({{"path", e.path}, {"message", e.message}});
      for (const auto& w : snap.warnings) partial.push_back({{"path", w.path}, {"message", w.message}});
      print_json({{"snapshot", snap.id.hex()},
                  {"target", a->target},
                  {"dry_run", a->dry_run},
                  {"files", r.files},
                  {"dirs", r.dirs},
                  {"symlinks", r.symlinks},
                  {"hardlinks", r.hardlinks},
                  {"specials", r.specials},
                  {"replaced_other", r.replaced_paths},
                  {"bytes", r.bytes},
                  {"bytes_written", r.bytes_written},
                  {"files_new", r.files_new},
                  {"files_replaced", r.files_replaced},
                  {"files_unchanged", r.files_unchanged},
                  {"deleted", r.deleted_paths},
                  {"damaged", r.damaged},
                  {"interrupted", r.interrupted},
                  {"unfinished_removed", r.unfinished_removed},
                  {"unmatched_includes", r.unmatched_includes},
                  {"unmatched_excludes", r.unmatched_excludes},
                  {"stale_tmp_removed", r.stale_tmp_removed},
                  {"partial_snapshot", snap.partial},
                  {"not_backed_up", partial},
                  {"verified", a->verify},
                  {"files_verified", r.files_verified},
                  {"duration_s", r.duration_s},
                  {"errors", errs},
                  {"warnings", warns}});
    } else {
      for (const auto& e : r.warnings)
        if (!g.quiet) std::cerr << "warning: " << e.path << ": " << e.message << "\n";
      if (!r.stale_tmp_removed.empty() && !g.quiet)
        std::cerr << "removed " << plural(r.stale_tmp_removed.size(), "temporary file", "temporary files")
                  << " left by an earlier, killed restore (first: " << r.stale_tmp_removed[0] << ")\n";
      for (const auto& e : r.unmatched_excludes)
        if (!g.quiet)
          std::cerr << "warning: --exclude '" << e << "' matched nothing in snapshot " << snap.id.short_hex() << "\n";
      for (const auto& e : r.errors) std::cerr << "error: " << e.path << ": " << e.message << "\n";
      if (!g.quiet) print_summary(r, *a, snap);
    }
    return restore_exit(r, *a, snap, g, *snapshot);
  });
}

}  // namespace arca
