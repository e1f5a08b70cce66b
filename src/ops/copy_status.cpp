#include "ops/copy_status.h"

#include <algorithm>
#include <map>
#include <set>

#include "ops/copy.h"
#include "ops/copy_objects.h"
#include "ops/pg_wal.h"
#include "repo/object_names.h"
#include "util/clock.h"

namespace arca::ops {

namespace {

std::string group_of(const Snapshot& s) { return s.source_kind + "\n" + s.source_name + "\n" + s.host; }

// The newest data `point` lets one restore (see ReplicaComponent).
double newest_data(Repository& repo, const Snapshot& point, std::string& note) {
  if (point.source_kind == "postgres") {
    try {
      ArchivedCommit c = newest_archived_commit(repo, point);
      if (c.commit) {
        note = "PostgreSQL: the newest commit in the archived WAL";
        return c.commit->unix_time();
      }
      note = "PostgreSQL: " + c.note;
    } catch (const Error& e) {
      note = std::string("PostgreSQL: the archived WAL could not be read: ") + e.what();
    }
  } else if (point.source_kind == "kafka") {
    const auto& m = point.metadata;
    if (m.contains("newest_record_time") && m["newest_record_time"].contains("value") &&
        m["newest_record_time"]["value"].is_number()) {
      note = "Kafka: the newest record archived";
      return m["newest_record_time"]["value"].get<double>() / 1000;
    }
  }
  if (note.empty()) note = "the recovery point's time";
  return parse_time(point.time).value_or(0);
}

nlohmann::json point_json(const std::optional<Snapshot>& s) {
  if (!s) return nullptr;
  return {{"id", s->id.hex()}, {"time", s->time}};
}

nlohmann::json opt(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

}  // namespace

double ReplicaStatus::max_lag_s() const {
  double worst = 0;
  for (const auto& c : components) worst = std::max(worst, c.lag_s);
  return worst;
}

nlohmann::json ReplicaStatus::to_json() const {
  nlohmann::json comps = nlohmann::json::array();
  for (const auto& c : components)
    comps.push_back({{"kind", c.kind},
                     {"source", c.source},
                     {"host", c.host},
                     {"primary_newest", point_json(c.primary_newest)},
                     {"replica_newest", point_json(c.replica_newest)},
                     {"pending_points", c.pending_points},
                     {"primary_data_unix", c.primary_data_unix},
                     {"replica_data_unix", c.replica_data_unix},
                     {"data", c.data_note},
                     {"lag_s", c.lag_s},
                     {"rpo_s", opt(c.rpo_s)}});
  return {{"replica", replica},
          {"checked_unix", checked_unix},
          {"components", comps},
          {"max_lag_s", max_lag_s()},
          {"pending",
           {{"points", pending_points},
            {"wal_objects", pending_wal_objects},
            {"wal_bytes", pending_wal_bytes},
            {"drill_records", pending_drill_records}}}};
}

std::vector<Snapshot> SnapshotCache::list(const Repository& repo, const CancelToken* cancel) {
  std::map<Id, Snapshot> now;
  std::vector<Id> ids;
  repo.backend().list(names::kSnapshotsPrefix, [&](const ObjectInfo& o) {
    if (auto id = names::parse_snapshot(o.name)) ids.push_back(*id);
  });
  for (const auto& id : ids) {
    if (auto it = by_id_.find(id); it != by_id_.end()) {
      now.emplace(id, std::move(it->second));
      continue;
    }
    if (cancel) cancel->check("copy status");
    try {
      now.emplace(id, repo.read_snapshot(id));
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Corrupt && e.kind() != ErrorKind::NotFound) throw;
    }
  }
  by_id_ = std::move(now);
  std::vector<Snapshot> out;
  for (const auto& [_, s] : by_id_) out.push_back(s);
  std::stable_sort(out.begin(), out.end(), [](const Snapshot& a, const Snapshot& b) { return a.time < b.time; });
  return out;
}

ReplicaStatus replica_status(Repository& primary, Repository& replica, const CancelToken* cancel,
                             SnapshotCache* primary_points, SnapshotCache* replica_points) {
  SnapshotCache once_primary, once_replica;
  if (!primary_points) primary_points = &once_primary;
  if (!replica_points) replica_points = &once_replica;
  ReplicaStatus st;
  st.replica = replica.backend().location();
  st.checked_unix = clock_now_s();
  std::set<Id> received;
  replica.backend().list(names::kCopiedPrefix, [&](const ObjectInfo& o) {
    if (auto id = names::parse_copied_record(o.name)) received.insert(*id);
  });
  std::vector<Snapshot> there = replica_points->list(replica, cancel);
  std::set<Id> there_ids;
  std::map<std::string, Snapshot> replica_newest;  // by group; lists are sorted by time
  for (const auto& s : there) {
    there_ids.insert(s.id);
    replica_newest[group_of(s)] = s;
  }
  std::map<std::string, ReplicaComponent> groups;
  std::map<std::string, double> oldest;  // by group: the primary's oldest point
  std::vector<Snapshot> after_copy = there;  // what the replica would hold: for the WAL it wants
  for (const auto& s : primary_points->list(primary, cancel)) {
    ReplicaComponent& c = groups[group_of(s)];
    if (!oldest.count(group_of(s))) oldest[group_of(s)] = parse_time(s.time).value_or(st.checked_unix);
    c.kind = s.source_kind;
    c.source = s.source_name;
    c.host = s.host;
    c.primary_newest = s;
    if (!there_ids.count(s.id) && !received.count(s.id)) {
      c.pending_points++;
      st.pending_points++;
      after_copy.push_back(s);
    }
  }
  for (auto& [key, c] : groups) {
    if (cancel) cancel->check("copy status");
    std::string note;
    c.primary_data_unix = newest_data(primary, *c.primary_newest, note);
    if (auto it = replica_newest.find(key); it != replica_newest.end()) {
      c.replica_newest = it->second;
      std::string replica_note;
      c.replica_data_unix = newest_data(replica, it->second, replica_note);
      if (replica_note != note) note += "; on the replica, " + replica_note;
      c.lag_s = std::max(0.0, c.primary_data_unix - c.replica_data_unix);
      c.rpo_s = std::max(0.0, st.checked_unix - c.replica_data_unix);
    } else if (received.count(c.primary_newest->id)) {
      c.lag_s = 0;  // it was copied; the replica's own retention removed it since
    } else {
      c.lag_s = std::max(0.0, st.checked_unix - oldest[key]);
    }
    c.data_note = note;
    st.components.push_back(std::move(c));
  }
  CopyRequest dry;
  dry.dry_run = true;
  CopyResult pending;
  JobContext ctx;
  copy_raw_families(
      primary, replica, [&]() -> const std::vector<Snapshot>& { return after_copy; }, dry, 1, ctx, pending);
  st.pending_wal_objects = pending.wal_objects;
  st.pending_wal_bytes = pending.wal_bytes;
  st.pending_drill_records = pending.drill_records;
  return st;
}

}  // namespace arca::ops
