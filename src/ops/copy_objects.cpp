#include "ops/copy_objects.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "repo/envelope.h"
#include "repo/object_families.h"
#include "repo/object_names.h"
#include "repo/wal_retention.h"
#include "util/parallel_for.h"

namespace arca::ops {

namespace {

// "wal/<sys>/<tl>/pieces/<segment>/<offset>" -> "wal/<sys>/<tl>/<segment>".
std::string whole_segment_of(const std::string& piece, const names::WalName& w) {
  return piece.substr(0, piece.find("/pieces/") + 1) + w.file;
}

struct Plan {
  std::vector<ObjectInfo> todo;
  // Whole segments to copy -> the replica's pieces of them, removed once the segment is there.
  std::map<std::string, std::vector<std::string>> superseded_pieces;
};

Plan plan_family(const ObjectFamily& f, const Repository& primary, const Repository& replica,
                 const std::function<const WalFloors&()>& floors) {
  std::set<std::string> theirs;
  replica.backend().list(std::string(f.prefix), [&](const ObjectInfo& o) { theirs.insert(o.name); });
  std::vector<ObjectInfo> ours;
  primary.backend().list(std::string(f.prefix), [&](const ObjectInfo& o) {
    if (f.matches(o.name)) ours.push_back(o);
  });
  Plan plan;
  if (f.id != "wal") {
    for (auto& o : ours)
      if (!theirs.count(o.name)) plan.todo.push_back(std::move(o));
    return plan;
  }
  std::set<std::string> whole;  // segments stored whole here or there
  for (const auto& o : ours)
    if (auto w = names::parse_wal(o.name); w && !w->piece) whole.insert(o.name);
  for (const auto& n : theirs)
    if (auto w = names::parse_wal(n); w && !w->piece) whole.insert(n);
  for (auto& o : ours) {
    auto w = names::parse_wal(o.name);
    if (theirs.count(o.name) || below_wal_floor(floors(), *w)) continue;
    if (w->piece && whole.count(whole_segment_of(o.name, *w))) continue;
    plan.todo.push_back(std::move(o));
  }
  std::set<std::string> arriving;
  for (const auto& o : plan.todo) arriving.insert(o.name);
  for (const auto& n : theirs) {
    auto w = names::parse_wal(n);
    if (!w || !w->piece) continue;
    std::string segment = whole_segment_of(n, *w);
    if (arriving.count(segment)) plan.superseded_pieces[segment].push_back(n);
  }
  return plan;
}

}  // namespace

void copy_raw_families(Repository& primary, Repository& replica, const ReplicaPoints& replica_points,
                       const CopyRequest& req, unsigned streams, JobContext& ctx, CopyResult& r) {
  std::optional<WalFloors> floors;
  auto get_floors = [&]() -> const WalFloors& {
    if (!floors) floors = wal_floors(replica_points());
    return *floors;
  };
  for (const auto& f : object_families()) {
    if (f.replication != Replication::Raw) continue;
    if ((f.id == "wal" && !req.wal) || (f.id == "drills" && !req.drills)) continue;
    ctx.cancel.check("copy");
    Plan plan = plan_family(f, primary, replica, get_floors);
    bool wal = f.id == "wal";
    std::mutex mu;
    auto counted = [&](const ObjectInfo& o) {
      std::lock_guard lk(mu);
      if (wal) {
        r.wal_objects++;
        r.wal_bytes += o.size;
      } else {
        r.drill_records++;
      }
    };
    if (req.dry_run) {
      for (const auto& o : plan.todo) counted(o);
      continue;
    }
    parallel_for(
        plan.todo.size(), streams,
        [&](size_t i) {
          const ObjectInfo& o = plan.todo[i];
          Bytes sealed;
          try {
            sealed = primary.backend().get(o.name);
            unseal(primary.keys(), sealed, o.name, o.name);  // what is copied must authenticate
          } catch (const Error& e) {
            if (e.kind() == ErrorKind::NotFound) return;  // removed since the listing (pieces of a finished segment)
            if (e.kind() != ErrorKind::Corrupt) throw;
            std::lock_guard lk(mu);
            // Once: the WAL is looked at again after the points.
            if (std::find(r.damaged.begin(), r.damaged.end(), e.what()) == r.damaged.end()) r.damaged.push_back(e.what());
            return;
          }
          replica.backend().put_if_absent(o.name, sealed);
          counted(o);
          // As the streaming writer does; a copy by an append-only key leaves them to the replica's prune.
          if (auto it = plan.superseded_pieces.find(o.name); it != plan.superseded_pieces.end() && !replica.append_only())
            for (const auto& piece : it->second) try {
                replica.backend().remove(piece);
              } catch (const Error&) {
                // A replica whose credentials cannot delete (Object Lock, no-delete policy).
              }
        },
        &ctx.cancel, "copy");
  }
}

}  // namespace arca::ops
