// `arca pg check`: is the WAL archive continuous from each base backup up to its newest
// segment? Per timeline, the segments present and the gaps; per base backup, how far it can be
// recovered without a gap (following timeline switches recorded in history files).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "repo/repository.h"
#include "repo/wal_names.h"

namespace arca {

struct WalGap {
  uint32_t timeline;
  std::string first_missing, last_missing;  // segment names
};

struct TimelineCoverage {
  uint32_t timeline;
  std::string first, last;  // segment names present (whole or, for the newest, in pieces)
  uint64_t segments = 0;
  bool last_is_partial = false;
  std::optional<uint32_t> parent;  // from the history file
  std::optional<Lsn> switch_lsn;   // where this timeline branched off its parent
  std::vector<WalGap> gaps;
};

struct BackupCoverage {
  Snapshot snapshot;
  bool continuous = true;  // no gap from the backup's end to `recoverable_to`
  uint32_t end_timeline = 0;
  std::string recoverable_to;  // last segment reachable without a gap
  std::optional<WalGap> first_gap;
};

struct WalContinuityReport {
  uint64_t system_id = 0;
  std::vector<TimelineCoverage> timelines;
  std::vector<BackupCoverage> backups;
  std::optional<Lsn> server_lsn;  // when asked to compare with the live server
  uint64_t segments_behind = 0;   // server's segment − newest archived one, on its timeline
  bool ok() const;
};

// For the cluster `system_id` (0 = the one of the newest base backup).
WalContinuityReport check_wal_continuity(Repository& repo, uint64_t system_id,
                                         std::optional<std::pair<uint32_t, Lsn>> server);

}  // namespace arca
