#include "sources/postgres/wal_continuity.h"

#include <map>
#include <set>
#include <sstream>

#include "sources/postgres/cluster_restore.h"
#include "sources/postgres/wal_archive.h"
#include "util/error.h"

namespace arca {

bool WalContinuityReport::ok() const {
  for (const auto& t : timelines)
    if (!t.gaps.empty()) return false;
  for (const auto& b : backups)
    if (!b.continuous) return false;
  return true;
}

// History file lines: "<parent tli>\t<switch LSN>\t<reason>"; the last line is the direct parent.
static void parse_history(const Bytes& content, TimelineCoverage& t) {
  std::istringstream in(std::string(content.begin(), content.end()));
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream l(line);
    uint32_t parent;
    std::string lsn;
    if (l >> parent >> lsn) {
      t.parent = parent;
      try {
        t.switch_lsn = parse_lsn(lsn);
      } catch (const Error&) {}
    }
  }
}

WalContinuityReport check_wal_continuity(Repository& repo, uint64_t system_id,
                                         std::optional<std::pair<uint32_t, Lsn>> server) {
  WalContinuityReport rep;
  std::vector<Snapshot> backups;
  for (auto& s : repo.list_snapshots())
    if (s.source_kind == "postgres") backups.push_back(std::move(s));
  if (system_id == 0) {
    if (backups.empty())
      throw Error(ErrorKind::NotFound, "the repository has no PostgreSQL base backups; pass --system-id");
    system_id = std::stoull(snapshot_meta(backups.back(), "system_id"));
  }
  rep.system_id = system_id;
  std::erase_if(backups, [&](const Snapshot& s) { return snapshot_meta(s, "system_id") != std::to_string(system_id); });
  uint64_t seg_size = 16u << 20;
  if (!backups.empty()) seg_size = std::stoull(snapshot_meta(backups.back(), "wal_segment_size"));

  WalArchive archive(repo, system_id);
  std::map<uint32_t, std::set<uint64_t>> full, partial;
  std::map<uint32_t, TimelineCoverage> tls;
  for (const auto& w : archive.list()) {
    const std::string& base = w.piece ? w.segment : w.file;
    auto n = parse_wal_file_name(base, seg_size);
    if (!n) continue;
    if (n->kind == WalFileName::Kind::History) {
      auto& t = tls[n->timeline];
      t.timeline = n->timeline;
      if (auto c = archive.fetch(w.file)) parse_history(*c, t);
      continue;
    }
    if (n->kind != WalFileName::Kind::Segment) continue;
    (w.piece ? partial : full)[n->timeline].insert(n->segno);
    tls[n->timeline].timeline = n->timeline;
  }
  // Segments each timeline has (whole, or in pieces as the newest one).
  std::map<uint32_t, std::set<uint64_t>> have;
  for (auto& [tli, t] : tls) {
    auto& h = have[tli];
    h = full[tli];
    for (uint64_t p : partial[tli])
      if (!h.count(p)) h.insert(p);
    if (h.empty()) continue;
    t.first = wal_segment_name(tli, *h.begin(), seg_size);
    t.last = wal_segment_name(tli, *h.rbegin(), seg_size);
    t.segments = h.size();
    t.last_is_partial = !full[tli].count(*h.rbegin());
    uint64_t prev = *h.begin();
    for (uint64_t s : h) {
      if (s > prev + 1)
        t.gaps.push_back({tli, wal_segment_name(tli, prev + 1, seg_size), wal_segment_name(tli, s - 1, seg_size)});
      prev = s;
    }
  }
  for (auto& [tli, t] : tls) rep.timelines.push_back(t);

  // From each backup's end: walk its timeline, then any child timeline that branched off later.
  for (const auto& b : backups) {
    BackupCoverage c;
    c.snapshot = b;
    uint32_t tli = uint32_t(std::stoul(snapshot_meta(b, "stop_timeline")));
    uint64_t seg = wal_segno(parse_lsn(snapshot_meta(b, "stop_lsn")), seg_size);  // held in the backup
    while (true) {
      const auto& h = have[tli];
      uint64_t s = seg;
      while (h.count(s + 1)) s++;
      // A newer timeline that branched from this one at or after the backup's position?
      std::optional<uint32_t> child;
      for (const auto& [ctli, ct] : tls)
        if (ctli > tli && ct.parent == tli && ct.switch_lsn && wal_segno(*ct.switch_lsn, seg_size) >= seg &&
            wal_segno(*ct.switch_lsn, seg_size) <= s + 1)
          child = ctli;
      if (child) {
        seg = wal_segno(*tls[*child].switch_lsn, seg_size);
        tli = *child;
        if (!have[tli].count(seg)) seg = seg ? seg - 1 : 0;  // the switch segment lives on the new timeline
        continue;
      }
      c.end_timeline = tli;
      c.recoverable_to = wal_segment_name(tli, s, seg_size);
      auto next = h.upper_bound(s);
      if (next != h.end()) {
        c.continuous = false;
        c.first_gap = WalGap{tli, wal_segment_name(tli, s + 1, seg_size), wal_segment_name(tli, *next - 1, seg_size)};
      }
      break;
    }
    rep.backups.push_back(std::move(c));
  }
  if (server) {
    rep.server_lsn = server->second;
    const auto& h = have[server->first];
    uint64_t server_seg = wal_segno(server->second, seg_size);
    rep.segments_behind = h.empty() ? server_seg : (server_seg > *h.rbegin() ? server_seg - *h.rbegin() : 0);
  }
  return rep;
}

}  // namespace arca
