#include <signal.h>

#include <atomic>
#include <iostream>
#include <thread>

#include "cli/commands.h"
#include "ops/error_table.h"
#include "cli/progress_display.h"
#include "sources/files/backup.h"

namespace arca {

namespace {

std::atomic<bool> g_interrupted{false};

// SIGINT/SIGTERM ask the backup to stop before it publishes anything; a second signal kills at
// once (SA_RESETHAND restores the default action). SA_RESTART: no thread's I/O fails with EINTR
// (the walker polls the flag between chunks).
void catch_interrupts() {
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_interrupted = true; };
  sa.sa_flags = SA_RESETHAND | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

void print_warning(const SnapshotWarning& w) {
  std::cerr << "warning: " << (w.path.empty() ? "" : w.path + ": ") << w.message << "\n";
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
    BackupOptions o;
    o.paths = a->paths;
    for (const auto& f : a->files_from)
      for (auto& p : read_list_file(f, "--files-from file")) o.paths.push_back(std::move(p));
    o.tags = a->tags;
    o.host = a->host;
    for (const auto& e : a->excludes) o.excludes.add(e);
    for (const auto& f : a->exclude_files) o.excludes.add_file(f);
    for (const auto& e : a->iexcludes) o.excludes.add(e, true);
    for (const auto& f : a->iexclude_files) o.excludes.add_file(f, true);
    o.dry_run = a->dry_run;
    o.stop = &g_interrupted;
    o.one_file_system = a->one_fs;
    if (!a->parent.empty()) o.parent = a->parent;
    o.force_reread = a->force;
    o.threads = a->threads;
    ProgressCounters progress;
    std::thread scanner;
    bool live = show_progress(g);
    normalize_paths(o.paths);  // usage errors surface here, not in the scanner thread
    catch_interrupts();
    if (live)
      scanner = std::thread([&] {
        try {
          scan_totals(o, progress);
        } catch (const std::exception&) {
          // Totals are only for the ETA; the backup itself reports every problem.
        }
      });
    Snapshot snap;
    BackupReport report;
    bool interrupted = false;
    {
      ProgressDisplay display(progress, "backup", "files", live);
      try {
        snap = backup_files(*repo, o, progress, &report);
      } catch (...) {
        if (scanner.joinable()) scanner.join();
        if (!g_interrupted) throw;
        interrupted = true;
      }
    }
    if (scanner.joinable()) scanner.join();
    if (interrupted) {
      // Nothing was published; packs already stored are reused by the next backup (or pruned).
      std::cerr << "interrupted: no recovery point saved\n";
      return kExitInterrupted;
    }
    if (o.dry_run) {
      const auto& s = snap.stats;
      if (g.json) {
        print_json({{"dry_run", true},
                    {"files", s.files},
                    {"dirs", s.dirs},
                    {"symlinks", s.symlinks},
                    {"special", s.special},
                    {"bytes", s.bytes},
                    {"files_new", s.files_new},
                    {"files_changed", s.files_changed},
                    {"files_unchanged", s.files_unchanged},
                    {"bytes_read", s.bytes_read},
                    {"new_data", s.bytes_added},
                    {"new_blobs", s.blobs_added},
                    {"partial", snap.partial},
                    {"warnings", snap.to_json().value("warnings", nlohmann::json::array())}});
      } else if (!g.quiet) {
        for (const auto& w : snap.warnings) print_warning(w);
        std::cout << "dry run: nothing was written\n"
                  << "  would store: " << s.files << " files (" << s.files_new << " new, " << s.files_changed
                  << " changed, " << s.files_unchanged << " unchanged), " << s.dirs << " dirs, " << s.symlinks
                  << " symlinks, " << s.special << " special files; " << human_bytes(s.bytes) << "\n"
                  << "  new data:    " << human_bytes(s.bytes_added) << " (before compression) in " << s.blobs_added
                  << " new chunks\n";
      }
      if (g.quiet)
        for (const auto& w : report.outcome_warnings) print_warning(w);
      return snap.partial ? kExitPartial : kExitOk;
    }
    const auto& s = snap.stats;
    if (g.json) {
      nlohmann::json j = snap.to_json();
      j["short_id"] = snap.id.short_hex();
      print_json(j);
    } else if (!g.quiet) {
      for (const auto& w : snap.warnings) print_warning(w);
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
    if (g.json && !g.quiet)
      for (const auto& w : snap.warnings) print_warning(w);
    // -q hides advice, not the reasons a point is partial (a cron job gets exit 3 and the list).
    if (g.quiet)
      for (const auto& w : report.outcome_warnings) print_warning(w);
    return snap.partial ? kExitPartial : kExitOk;
  });
}

}  // namespace arca
