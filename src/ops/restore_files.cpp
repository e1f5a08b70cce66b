#include "ops/restore_files.h"

#include "ops/restore_outcome.h"

namespace arca::ops {

Snapshot resolve_restore_point(const Repository& repo, const RestoreFilesRequest& req) {
  return resolve_snapshot(repo, req.snapshot, req.filter);
}

RestoreFilesResult restore_files(Repository& repo, const Snapshot& snap, const RestoreFilesRequest& req,
                                 JobContext& ctx) {
  RestoreFilesResult r;
  r.snapshot = snap;
  r.options = req.options;
  r.options.cancel = &ctx.cancel.flag();
  r.files = arca::restore_files(repo, snap, r.options, ctx.progress);
  r.options.cancel = nullptr;  // the token does not outlive the job
  r.verdict = judge_restore(r.files);
  return r;
}

int RestoreFilesResult::exit_code() const { return restore_exit_code(verdict.outcome); }

nlohmann::json RestoreFilesResult::to_json() const {
  const RestoreResult& f = files;
  nlohmann::json errs = nlohmann::json::array(), warns = nlohmann::json::array(), partial = nlohmann::json::array();
  for (const auto& e : f.errors)
    errs.push_back({{"path", e.path},
                    {"message", e.message},
                    {"source", e.source == RestoreProblemSource::Repository ? "repository" : "target"}});
  for (const auto& e : f.warnings) warns.push_back({{"path", e.path}, {"message", e.message}});
  for (const auto& w : snapshot.warnings) partial.push_back({{"path", w.path}, {"message", w.message}});
  return {{"snapshot", snapshot.id.hex()},
          {"target", options.target},
          {"dry_run", options.dry_run},
          {"files", f.files},
          {"dirs", f.dirs},
          {"symlinks", f.symlinks},
          {"hardlinks", f.hardlinks},
          {"specials", f.specials},
          {"replaced_other", f.replaced_paths},
          {"bytes", f.bytes},
          {"bytes_written", f.bytes_written},
          {"files_new", f.files_new},
          {"files_replaced", f.files_replaced},
          {"files_unchanged", f.files_unchanged},
          {"deleted", f.deleted_paths},
          {"damaged", f.damaged},
          {"interrupted", f.interrupted},
          {"unfinished_removed", f.unfinished_removed},
          {"unmatched_includes", f.unmatched_includes},
          {"unmatched_excludes", f.unmatched_excludes},
          {"stale_tmp_removed", f.stale_tmp_removed},
          {"partial_snapshot", snapshot.partial},
          {"not_backed_up", partial},
          {"verified", options.verify},
          {"files_verified", f.files_verified},
          {"duration_s", f.duration_s},
          {"errors", errs},
          {"warnings", warns}};
}

}  // namespace arca::ops
