// `arca backup`: flags and printing; the backup itself is ops::backup_files.
#include <iostream>

#include "cli/cli_job.h"
#include "cli/commands.h"
#include "ops/backup_files.h"
#include "ops/error_table.h"

namespace arca {

namespace {

void print_warning(const SnapshotWarning& w) {
  std::cerr << "warning: " << (w.path.empty() ? "" : w.path + ": ") << w.message << "\n";
}

void print_summary(const ops::BackupFilesResult& r) {
  const Snapshot& snap = r.snapshot;
  const auto& s = snap.stats;
  if (r.dry_run) {
    std::cout << "dry run: nothing was written\n"
              << "  would store: " << s.files << " files (" << s.files_new << " new, " << s.files_changed
              << " changed, " << s.files_unchanged << " unchanged), " << s.dirs << " dirs, " << s.symlinks
              << " symlinks, " << s.special << " special files; " << human_bytes(s.bytes) << "\n"
              << "  new data:    " << human_bytes(s.bytes_added) << " (before compression) in " << s.blobs_added
              << " new chunks\n";
    return;
  }
  double rate = s.duration_s > 0 ? double(s.bytes) / s.duration_s : 0;
  std::cout << "snapshot " << snap.id.short_hex() << " saved"
            << (snap.partial ? " (PARTIAL: some files could not be read)" : "") << "\n"
            << "  files:  " << s.files_new << " new, " << s.files_changed << " changed, " << s.files_unchanged
            << " unchanged; " << s.dirs << " dirs, " << s.symlinks << " symlinks"
            << (s.special ? ", " + std::to_string(s.special) + " special files" : std::string()) << "\n"
            << "  data:   " << human_bytes(s.bytes) << " in " << human_duration(s.duration_s) << " ("
            << human_bytes(uint64_t(rate)) << "/s), read " << human_bytes(s.bytes_read) << "\n"
            << "  added:  " << human_bytes(s.bytes_added) << " new data, " << human_bytes(s.stored_added)
            << " stored after compression and encryption\n";
}

}  // namespace

void register_backup(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("backup", "Back up files and directories into a new snapshot");
  add_global_options(*cmd, g);
  struct Args {
    std::vector<std::string> paths, tags, excludes, exclude_files, iexcludes, iexclude_files, files_from;
    std::string host, parent;
    bool one_fs = false, force = false, dry_run = false;
    unsigned threads = 0;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("paths", a->paths, "Files or directories to back up (several go into one snapshot)");
  cmd->add_option("--files-from", a->files_from,
                  "Read paths to back up from a file, one per line (trimmed; '#' comments); repeatable")
      ->allow_extra_args(false);
  add_tags_option(*cmd, "--tag", a->tags, "Tag the snapshot (a,b is two tags; repeatable)");
  host_option(cmd->add_option("--host", a->host, "Host name to record (default: this machine's)"));
  cmd->add_option("-e,--exclude", a->excludes,
                  "Exclude a glob pattern: starting with '/' it matches absolute paths from the top, otherwise "
                  "the end of a path at any depth ('*.tmp', '.cache/thumbnails'); '*' does not cross '/', "
                  "'**' does; repeatable")
      ->allow_extra_args(false);
  cmd->add_option("--iexclude", a->iexcludes, "Like --exclude, ignoring case; repeatable")->allow_extra_args(false);
  cmd->add_option("--exclude-file", a->exclude_files,
                  "Read exclude patterns from a file, one per line (trimmed; '#' comments); repeatable")
      ->allow_extra_args(false);
  cmd->add_option("--iexclude-file", a->iexclude_files, "Like --exclude-file, ignoring case; repeatable")
      ->allow_extra_args(false);
  cmd->add_flag("-n,--dry-run", a->dry_run,
                "Show what would be stored (files, bytes, new data) without writing anything");
  cmd->add_flag("-x,--one-file-system", a->one_fs,
                "Do not cross filesystem boundaries (mount points are kept as empty directories)");
  cmd->add_option("--parent", a->parent,
                  "Snapshot to compare with for unchanged files (default: latest with same host and paths)");
  cmd->add_flag("--force", a->force, "Read every file, even unchanged ones");
  cmd->add_option("--threads", a->threads, "Worker threads (default: number of cores)")->check(CLI::Range(1, 256));
  set_command(*cmd, [&g, a] {
    auto repo = open_repository(g);
    ops::BackupFilesRequest req;
    req.paths = a->paths;
    req.files_from = a->files_from;
    req.tags = a->tags;
    req.host = a->host;
    req.excludes = a->excludes;
    req.exclude_files = a->exclude_files;
    req.iexcludes = a->iexcludes;
    req.iexclude_files = a->iexclude_files;
    req.dry_run = a->dry_run;
    req.one_file_system = a->one_fs;
    if (!a->parent.empty()) req.parent = a->parent;
    req.force_reread = a->force;
    req.threads = a->threads;
    req.count_totals = show_progress(g);
    ops::BackupFilesResult r;
    {
      CliJob job(g);
      job.show_progress("backup", "files");
      try {
        r = ops::backup_files(*repo, req, job.ctx());
      } catch (...) {
        if (!job.ctx().cancel.cancelled()) throw;  // whatever stopped it after a signal, nothing was published
        job.stop_progress();
        // Nothing was published; packs already stored are reused by the next backup (or pruned).
        std::cerr << "interrupted: no recovery point saved\n";
        return kExitInterrupted;
      }
    }
    const Snapshot& snap = r.snapshot;
    if (g.json) {
      print_json(r.to_json());
      if (!r.dry_run && !g.quiet)
        for (const auto& w : snap.warnings) print_warning(w);
    } else if (!g.quiet) {
      for (const auto& w : snap.warnings) print_warning(w);
      print_summary(r);
    }
    // -q hides advice, not the reasons a point is partial (a cron job gets exit 3 and the list).
    if (g.quiet)
      for (const auto& w : r.outcome_warnings) print_warning(w);
    return r.partial() ? kExitPartial : kExitOk;
  });
}

}  // namespace arca
