#include "ops/repair.h"

#include <algorithm>

namespace arca::ops {

nlohmann::json RepairIndexReport::to_json() const {
  const RepairIndexResult& r = result;
  return {{"dry_run", dry_run},
          {"complete", r.complete()},
          {"packs", r.packs},
          {"blobs", r.blobs},
          {"packs_added", r.packs_added},
          {"index_files_written", r.index_files_written},
          {"damaged_index", r.damaged_index},
          {"removed", r.removed},
          {"remove_failed", r.remove_failed},
          {"unreadable_packs", r.unreadable_packs},
          {"kept_from_old_index", r.kept_from_old},
          {"missing_packs", r.missing_packs}};
}

RepairIndexReport repair_index(Repository& repo, const RepairIndexRequest& req, JobContext& ctx) {
  RepairIndexOptions o;
  o.dry_run = req.dry_run;
  o.lost_key_versions = req.lost_key_versions;
  return {req.dry_run, arca::repair_index(repo, o, ctx.progress)};
}

size_t RepairSnapshotsResult::locked() const {
  return std::count_if(damaged.begin(), damaged.end(), [](const auto& d) { return !d.locked_by.empty(); });
}

nlohmann::json RepairSnapshotsResult::to_json() const {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& d : damaged) {
    nlohmann::json item = {
        {"object", d.name}, {"reason", d.reason}, {"removable", arca::removable(d, lost_key_versions)}};
    if (d.unavailable_key) item["unavailable_key_version"] = *d.unavailable_key;
    if (!d.locked_by.empty()) item["locked_by"] = d.locked_by;
    items.push_back(item);
  }
  return {{"dry_run", dry_run}, {"damaged", items}, {"removed", removed}, {"kept", kept}};
}

RepairSnapshotsResult repair_snapshots(Repository& repo, const RepairSnapshotsRequest& req, JobContext& ctx) {
  RepairSnapshotsResult r;
  r.dry_run = req.dry_run;
  r.lost_key_versions = req.lost_key_versions;
  r.damaged = find_damaged_snapshots(repo);
  for (const auto& d : r.damaged) (arca::removable(d, r.lost_key_versions) ? r.removable : r.kept)++;
  if (!r.removes()) return r;
  if (!req.confirmed && !(req.ask && req.ask(r))) {
    r.needs_confirmation = true;
    return r;
  }
  ctx.cancel.check("repair snapshots");
  r.removed = remove_damaged_snapshots(repo, r.damaged, r.lost_key_versions);
  return r;
}

}  // namespace arca::ops
