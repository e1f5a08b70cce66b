#include "ops/snapshots.h"

#include "repo/future_points.h"
#include "repo/key_files.h"
#include "util/clock.h"

namespace arca::ops {

nlohmann::json SnapshotList::to_json() const {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& p : points) {
    const Snapshot& s = p.snap;
    auto x = s.to_json();
    x["short_id"] = s.id.short_hex();
    x["key_id"] = s.key_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.key_id);
    x["signature"] = signature_name(p.signature);
    x["future_dated"] = !p.future.empty();
    if (!p.future.empty()) x["future_dated_reason"] = p.future;
    nlohmann::json lj = nlohmann::json::array();
    for (const auto& l : p.locks)
      lj.push_back({{"id", l.id.hex()}, {"mode", lock_mode_name(l.mode)}, {"until", l.until}});
    x["locks"] = std::move(lj);
    j.push_back(std::move(x));
  }
  return j;
}

SnapshotList list_snapshots(const Repository& repo, const SnapshotFilter& filter) {
  int64_t now = clock_now();
  auto locks = active_locks(load_locks(repo), now);
  std::vector<Snapshot> list = filter_snapshots(repo.list_snapshots(), filter);
  // Dated in the future: never 'latest', not counted by forget (see docs/security.md).
  std::map<Id, std::string> future;
  for (auto& [id, why] : future_dated_points(list, now)) future[id] = why;
  // Whether each point's key record is proven by its signature (see docs/security.md).
  auto public_keys = signing_public_keys(repo.backend());
  SnapshotList r;
  for (auto& s : list) {
    ListedPoint p;
    p.signature = verify_point(s, public_keys);
    if (auto it = locks.find(s.id); it != locks.end()) p.locks = it->second;
    if (auto it = future.find(s.id); it != future.end()) p.future = it->second;
    p.snap = std::move(s);
    r.points.push_back(std::move(p));
  }
  return r;
}

}  // namespace arca::ops
