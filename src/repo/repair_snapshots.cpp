#include "repo/repair_snapshots.h"

#include <algorithm>
#include <mutex>
#include <nlohmann/json.hpp>

#include "repo/locks.h"
#include "repo/object_names.h"
#include "repo/repair_scan.h"
#include "util/error.h"
#include "util/parallel_for.h"

namespace arca {

std::vector<DamagedSnapshot> find_damaged_snapshots(const Repository& repo) {
  std::vector<std::string> names;
  repo.backend().list(names::kSnapshotsPrefix, [&](const ObjectInfo& o) { names.push_back(o.name); });
  std::vector<DamagedSnapshot> out;
  std::mutex mu;
  parallel_for(names.size(), std::max(2u, repo.backend().parallelism()), [&](size_t i) {
    std::string reason;
    try {
      auto id = names::parse_snapshot(names[i]);
      if (!id) throw Error(ErrorKind::Corrupt, "not a snapshot name");
      Bytes plain = repo.load_object(names[i]);
      Snapshot::from_json(nlohmann::json::parse(plain.begin(), plain.end()), *id);
      return;
    } catch (const KeyVersionUnavailable& e) {
      std::lock_guard lk(mu);
      out.push_back({names[i], without_name(e.what(), names[i]), e.version(), ""});
      return;
    } catch (const nlohmann::json::exception& e) {
      reason = std::string("malformed: ") + e.what();
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::NotFound) return;  // forgotten since the listing
      if (e.kind() != ErrorKind::Corrupt) throw;
      reason = without_name(e.what(), names[i]);
    } catch (const std::exception& e) {
      reason = e.what();
    }
    std::lock_guard lk(mu);
    out.push_back({names[i], reason, std::nullopt, ""});
  });
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  // A lock names its point by id (locks/<id>/…), so it protects a point that cannot be read too.
  if (!out.empty()) {
    auto locks = active_locks(load_locks(repo), time(nullptr));
    for (auto& d : out)
      if (auto id = names::parse_snapshot(d.name))
        if (auto it = locks.find(*id); it != locks.end()) d.locked_by = it->second.front().describe();
  }
  return out;
}

bool removable(const DamagedSnapshot& d, const std::set<uint32_t>& lost_key_versions) {
  if (!d.locked_by.empty()) return false;
  return !d.unavailable_key || lost_key_versions.count(*d.unavailable_key);
}

size_t remove_damaged_snapshots(Repository& repo, const std::vector<DamagedSnapshot>& damaged,
                                const std::set<uint32_t>& lost_key_versions) {
  size_t n = 0;
  for (const auto& d : damaged) n += removable(d, lost_key_versions);
  if (repo.append_only() && n)
    throw Error(ErrorKind::Refused,
                "append-only key " + repo.key_id().substr(0, 8) +
                    " cannot remove snapshot objects; run 'arca repair snapshots' with an operator's key");
  size_t removed = 0;
  for (const auto& d : damaged) {
    if (!removable(d, lost_key_versions)) continue;
    try {
      repo.backend().remove(d.name);
      removed++;
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::NotFound) throw;
    }
  }
  return removed;
}

}  // namespace arca
