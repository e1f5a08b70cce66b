// `arca snapshots`: the recovery points a filter matches, with their locks, whether each is
// future-dated, and whether its key record is proven by its signature.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "repo/locks.h"
#include "repo/point_signature.h"
#include "repo/repository.h"
#include "repo/snapshot_filter.h"

namespace arca::ops {

struct ListedPoint {
  Snapshot snap;
  std::vector<SnapshotLock> locks;  // active ones
  std::string future;               // non-empty: future-dated (why)
  PointSignature signature = PointSignature::Unsigned;
};

struct SnapshotList {
  std::vector<ListedPoint> points;  // oldest first
  nlohmann::json to_json() const;   // snapshots --json
};

SnapshotList list_snapshots(const Repository& repo, const SnapshotFilter& filter);

}  // namespace arca::ops
