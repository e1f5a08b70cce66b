#include "cli/restore_print.h"

#include <iostream>

namespace arca {

namespace {

std::string plural(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

void print_summary(const RestoreResult& r, const RestoreOptions& a, const Snapshot& snap) {
  if (r.interrupted) return;  // print_restore_outcome says what was done
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

void print_nothing_matched(const RestoreResult& r, const Snapshot& snap, const std::string& snapshot_arg) {
  std::string paths;
  for (const auto& p : snap.paths) paths += (paths.empty() ? "" : ", ") + p;
  for (const auto& i : r.unmatched_includes) std::cerr << "error: --include '" << i << "' matched nothing\n";
  std::cerr << "  in snapshot " << snap.id.short_hex() << " of " << short_time(snap.time) << " UTC, host " << snap.host
            << ", paths " << paths << "\n  (list its contents with 'arca ls " << snap.id.short_hex() << "'";
  if (snapshot_arg == "latest")
    std::cerr << "; 'latest' is the newest point of any backup job: name the point by id, or select it with --path, "
                 "--host or --tag";
  std::cerr << ")\n";
}

}  // namespace

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

void print_restore_report(const ops::RestoreFilesResult& res, const GlobalOptions& g) {
  const RestoreResult& r = res.files;
  for (const auto& e : r.warnings)
    if (!g.quiet) std::cerr << "warning: " << e.path << ": " << e.message << "\n";
  if (!r.stale_tmp_removed.empty() && !g.quiet)
    std::cerr << "removed " << plural(r.stale_tmp_removed.size(), "temporary file", "temporary files")
              << " left by an earlier, killed restore (first: " << r.stale_tmp_removed[0] << ")\n";
  for (const auto& e : r.unmatched_excludes)
    if (!g.quiet)
      std::cerr << "warning: --exclude '" << e << "' matched nothing in snapshot " << res.snapshot.id.short_hex()
                << "\n";
  for (const auto& e : r.errors) std::cerr << "error: " << e.path << ": " << e.message << "\n";
  if (!g.quiet) print_summary(r, res.options, res.snapshot);
}

void print_restore_outcome(const ops::RestoreFilesResult& res, const GlobalOptions& g,
                           const std::string& snapshot_arg) {
  const RestoreResult& r = res.files;
  const RestoreVerdict& v = res.verdict;
  switch (v.outcome) {
    case RestoreOutcome::Interrupted:
      std::cerr << "interrupted: " << plural(r.files, "file", "files") << " restored, "
                << plural(r.unfinished_removed, "unfinished file", "unfinished files") << " removed";
      std::cerr << "; run the same restore again to complete it\n";
      return;
    case RestoreOutcome::NoSpace:
      std::cerr << "the target filesystem is full: free space (or choose another --target) and run the same "
                   "restore again; files already restored correctly will not be rewritten\n";
      return;
    case RestoreOutcome::NothingMatched:
      print_nothing_matched(r, res.snapshot, snapshot_arg);
      return;
    default:
      break;
  }
  if (g.json) return;
  const auto& damaged = v.damaged;
  if (!damaged.empty()) {
    std::cerr << plural(damaged.size(), "entry is", "entries are") << " damaged in the repository and "
              << (damaged.size() == 1 ? "was" : "were") << " not restored";
    for (size_t i = 0; i < damaged.size() && i < 10; i++) std::cerr << (i ? ", " : ": ") << damaged[i];
    if (damaged.size() > 10) std::cerr << " …";
    std::cerr << " (an existing file of that name in the target is left as it was); "
                 "run 'arca check --read-data' to see all damage\n";
  }
  if (v.target_problems > 0)
    std::cerr << plural(v.target_problems, "entry", "entries") << " could not be written to the target "
              << res.options.target << " (see the errors above: permissions, a read-only filesystem, a name clash); "
              << "the repository is not at fault\n";
}

}  // namespace arca
