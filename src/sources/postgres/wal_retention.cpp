#include "sources/postgres/wal_retention.h"

#include <map>

#include "sources/postgres/cluster_restore.h"
#include "sources/postgres/wal_archive.h"
#include "util/parallel_for.h"

namespace arca {

WalPruneStats prune_wal_archive(Repository& repo, const std::vector<Snapshot>& snapshots, bool dry_run) {
  WalPruneStats stats;
  // The oldest base backup's first segment, per cluster.
  struct Oldest {
    uint64_t segno = UINT64_MAX, segment_size = 0;
  };
  std::map<std::string, Oldest> oldest;  // system id hex -> oldest start
  for (const auto& s : snapshots) {
    if (s.source_kind != "postgres") continue;
    try {
      std::string sys = system_id_hex(std::stoull(snapshot_meta(s, "system_id")));
      uint64_t size = std::stoull(snapshot_meta(s, "wal_segment_size"));
      uint64_t segno = wal_segno(parse_lsn(snapshot_meta(s, "start_lsn")), size);
      auto& o = oldest[sys];
      if (segno < o.segno) o = {segno, size};
    } catch (const std::exception&) {
      // Its cluster and start are unknown, so no WAL can be proven unneeded.
      stats.notes.push_back("base backup " + s.id.short_hex() + " lacks WAL positions: no WAL is removed");
      return stats;
    }
  }
  std::map<std::string, bool> clusters;
  repo.backend().list("wal/", [&](const ObjectInfo& o) {
    size_t slash = o.name.find('/', 4);
    if (slash != std::string::npos) clusters[o.name.substr(4, slash - 4)] = true;
  });
  std::vector<std::pair<std::string, uint64_t>> doomed;  // object name, size
  for (const auto& [sys, _] : clusters) {
    auto it = oldest.find(sys);
    if (it == oldest.end()) {
      stats.notes.push_back("cluster " + sys + " has no base backup left: all its WAL is kept");
      continue;
    }
    const Oldest& o = it->second;
    std::string prefix = "wal/" + sys + "/";
    repo.backend().list(prefix, [&](const ObjectInfo& obj) {
      // wal/<sys>/<timeline>/<file> or wal/<sys>/<timeline>/pieces/<segment>/<offset>
      std::string rest = obj.name.substr(prefix.size());
      size_t slash = rest.find('/');
      if (slash == std::string::npos) return;
      std::string file = rest.substr(slash + 1);
      if (file.rfind("pieces/", 0) == 0) file = file.substr(7, file.find('/', 7) - 7);
      auto name = parse_wal_file_name(file, o.segment_size);
      if (!name || name->kind == WalFileName::Kind::History) return;
      if (name->segno < o.segno) doomed.emplace_back(obj.name, obj.size);
    });
  }
  for (const auto& d : doomed) stats.objects++, stats.bytes += d.second;
  if (!dry_run)
    parallel_for(doomed.size(), std::max(2u, repo.backend().parallelism()),
                 [&](size_t i) { repo.backend().remove(doomed[i].first); });
  return stats;
}

}  // namespace arca
