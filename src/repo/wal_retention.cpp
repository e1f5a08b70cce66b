#include "repo/wal_retention.h"

#include <algorithm>
#include <map>

#include "repo/object_names.h"
#include "repo/repository.h"
#include "repo/wal_names.h"
#include "util/parallel_for.h"

namespace arca {

// A metadata value as text ("" if absent), as base backups record them (§10).
static std::string meta_text(const Snapshot& s, const std::string& key) {
  if (!s.metadata.contains(key)) return "";
  const auto& v = s.metadata[key]["value"];
  return v.is_string() ? v.get<std::string>() : v.dump();
}

WalFloors wal_floors(const std::vector<Snapshot>& snapshots) {
  WalFloors floors;
  for (const auto& s : snapshots) {
    if (s.source_kind != "postgres") continue;
    try {
      std::string sys = names::wal_system_id(std::stoull(meta_text(s, "system_id")));
      uint64_t size = std::stoull(meta_text(s, "wal_segment_size"));
      uint64_t segno = wal_segno(parse_lsn(meta_text(s, "start_lsn")), size);
      auto& f = floors.by_system[sys];
      if (segno < f.segno) f = {segno, size};
    } catch (const std::exception&) {
      floors.unknown = s.id.short_hex();
      return floors;
    }
  }
  return floors;
}

bool below_wal_floor(const WalFloors& floors, const names::WalName& w) {
  if (!floors.unknown.empty()) return false;
  auto it = floors.by_system.find(w.system);
  if (it == floors.by_system.end()) return false;
  auto name = parse_wal_file_name(w.file, it->second.segment_size);
  return name && name->kind != WalFileName::Kind::History && name->segno < it->second.segno;
}

WalPruneStats prune_wal_archive(Repository& repo, const std::vector<Snapshot>& snapshots, bool dry_run) {
  WalPruneStats stats;
  WalFloors floors = wal_floors(snapshots);
  if (!floors.unknown.empty()) {
    // Its cluster and start are unknown, so no WAL can be proven unneeded.
    stats.notes.push_back("base backup " + floors.unknown + " lacks WAL positions: no WAL is removed");
    return stats;
  }
  // wal/<sys>/<timeline>/<file> or wal/<sys>/<timeline>/pieces/<segment>/<offset>, by cluster
  std::map<std::string, std::vector<std::pair<names::WalName, ObjectInfo>>> clusters;
  repo.backend().list(names::kWalPrefix, [&](const ObjectInfo& o) {
    if (auto w = names::parse_wal(o.name)) clusters[w->system].emplace_back(std::move(*w), o);
  });
  std::vector<std::pair<std::string, uint64_t>> doomed;  // object name, size
  for (const auto& [sys, objects] : clusters) {
    if (!floors.by_system.count(sys)) {
      stats.notes.push_back("cluster " + sys + " has no base backup left: all its WAL is kept");
      continue;
    }
    for (const auto& [w, obj] : objects)
      if (below_wal_floor(floors, w)) doomed.emplace_back(obj.name, obj.size);
  }
  for (const auto& d : doomed) stats.objects++, stats.bytes += d.second;
  if (!dry_run)
    parallel_for(doomed.size(), std::max(2u, repo.backend().parallelism()),
                 [&](size_t i) { repo.backend().remove(doomed[i].first); });
  return stats;
}

}  // namespace arca
