#include "ops/backup_files.h"

#include <thread>

#include "sources/files/backup.h"
#include "sources/files/exclude.h"

namespace arca::ops {

nlohmann::json BackupFilesResult::to_json() const {
  const Snapshot& snap = snapshot;
  if (!dry_run) {
    nlohmann::json j = snap.to_json();
    j["short_id"] = snap.id.short_hex();
    return j;
  }
  const auto& s = snap.stats;
  return {{"dry_run", true},
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
          {"warnings", snap.to_json().value("warnings", nlohmann::json::array())}};
}

BackupFilesResult backup_files(Repository& repo, const BackupFilesRequest& req, JobContext& ctx) {
  BackupOptions o;
  o.paths = req.paths;
  for (const auto& f : req.files_from)
    for (auto& p : read_list_file(f, "--files-from file")) o.paths.push_back(std::move(p));
  o.tags = req.tags;
  o.host = req.host;
  for (const auto& e : req.excludes) o.excludes.add(e);
  for (const auto& f : req.exclude_files) o.excludes.add_file(f);
  for (const auto& e : req.iexcludes) o.excludes.add(e, true);
  for (const auto& f : req.iexclude_files) o.excludes.add_file(f, true);
  o.dry_run = req.dry_run;
  o.one_file_system = req.one_file_system;
  o.parent = req.parent;
  o.force_reread = req.force_reread;
  o.threads = req.threads;
  o.cancel = &ctx.cancel;
  normalize_paths(o.paths);  // usage errors surface here, not in the counting thread
  std::thread counter;
  if (req.count_totals)
    counter = std::thread([&] {
      try {
        scan_totals(o, ctx.progress);
      } catch (const std::exception&) {
        // Totals are only for the ETA; the backup itself reports every problem.
      }
    });
  // The counter reads `o` and ctx.progress: joined before they go, whatever the backup's end.
  struct Join {
    std::thread& t;
    ~Join() {
      if (t.joinable()) t.join();
    }
  } join{counter};
  BackupFilesResult r;
  r.dry_run = req.dry_run;
  BackupReport report;
  r.snapshot = arca::backup_files(repo, o, ctx.progress, &report);
  r.outcome_warnings = std::move(report.outcome_warnings);
  return r;
}

}  // namespace arca::ops
