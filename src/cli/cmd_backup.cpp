#include <iostream>
#include <thread>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/progress_display.h"
#include "sources/files/backup.h"

namespace arca {

void register_backup(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("backup", "Back up files and directories into a new snapshot");
  add_global_options(*cmd, g);
  struct Args {
    std::vector<std::string> paths, tags, excludes, exclude_files;
    std::string host, parent;
    bool one_fs = false, force = false;
    unsigned threads = 0;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("paths", a->paths, "Files or directories to back up (several go into one snapshot)")->required();
  add_tags_option(*cmd, "--tag", a->tags, "Tag the snapshot (a,b is two tags; repeatable)");
  cmd->add_option("--host", a->host, "Host name to record (default: this machine's)");
  cmd->add_option("-e,--exclude", a->excludes,
                  "Exclude a glob pattern: without '/' it matches names at any depth, with '/' absolute paths "
                  "('*' does not cross '/'); repeatable")
      ->allow_extra_args(false);
  cmd->add_option("--exclude-file", a->exclude_files, "Read exclude patterns from a file, one per line; repeatable")
      ->allow_extra_args(false);
  cmd->add_flag("-x,--one-file-system", a->one_fs, "Do not cross filesystem boundaries");
  cmd->add_option("--parent", a->parent,
                  "Snapshot to compare with for unchanged files (default: latest with same host and paths)");
  cmd->add_flag("--force", a->force, "Read every file, even unchanged ones");
  cmd->add_option("--threads", a->threads, "Worker threads (default: number of cores)")->check(CLI::Range(1, 256));
  set_command(*cmd, [&g, a] {
    auto repo = open_repository(g);
    BackupOptions o;
    o.paths = a->paths;
    o.tags = a->tags;
    o.host = a->host;
    for (const auto& e : a->excludes) o.excludes.add(e);
    for (const auto& f : a->exclude_files) o.excludes.add_file(f);
    o.one_file_system = a->one_fs;
    if (!a->parent.empty()) o.parent = a->parent;
    o.force_reread = a->force;
    o.threads = a->threads;
    ProgressCounters progress;
    std::thread scanner;
    bool live = show_progress(g);
    normalize_paths(o.paths);  // usage errors surface here, not in the scanner thread
    if (live)
      scanner = std::thread([&] {
        try {
          scan_totals(o, progress);
        } catch (const std::exception&) {
          // Totals are only for the ETA; the backup itself reports every problem.
        }
      });
    Snapshot snap;
    {
      ProgressDisplay display(progress, "backup", "files", live);
      try {
        snap = backup_files(*repo, o, progress);
      } catch (...) {
        if (scanner.joinable()) scanner.join();
        throw;
      }
    }
    if (scanner.joinable()) scanner.join();
    const auto& s = snap.stats;
    if (g.json) {
      nlohmann::json j = snap.to_json();
      j["short_id"] = snap.id.short_hex();
      print_json(j);
    } else if (!g.quiet) {
      for (const auto& w : snap.warnings) std::cerr << "warning: " << w.path << ": " << w.message << "\n";
      double rate = s.duration_s > 0 ? double(s.bytes) / s.duration_s : 0;
      std::cout << "snapshot " << snap.id.short_hex() << " saved" << (snap.partial ? " (PARTIAL: some files could not be read)" : "")
                << "\n"
                << "  files:  " << s.files_new << " new, " << s.files_changed << " changed, " << s.files_unchanged
                << " unchanged; " << s.dirs << " dirs, " << s.symlinks << " symlinks\n"
                << "  data:   " << human_bytes(s.bytes) << " in " << human_duration(s.duration_s) << " ("
                << human_bytes(uint64_t(rate)) << "/s), read " << human_bytes(s.bytes_read) << "\n"
                << "  added:  " << human_bytes(s.bytes_added) << " new data, " << human_bytes(s.stored_added)
                << " stored after compression and encryption\n";
    }
    for (const auto& w : snap.warnings)
      if (g.json && !g.quiet) std::cerr << "warning: " << w.path << ": " << w.message << "\n";
    return snap.partial ? kExitPartial : kExitOk;
  });
}

}  // namespace arca
