// A failover drill of a PostgreSQL component (`failover: true`, docs/drills.md "Failover"): the
// base backup restored as a warm standby that replays the repository's WAL (as `arca pg restore
// --standby` sets one up), waited for until it has replayed everything the archive held, then
// promoted (ops::pg_promote) and validated — what a standby kept at the DR site costs when the
// primary is lost. Internal to src/drill.
#pragma once
#include <optional>
#include <string>

#include "drill/drill_components.h"
#include "repo/wal_names.h"

namespace arca::drill {

// Phases: locate, restore, start (the standby accepts read-only connections), catch-up, promote,
// validate. In scratch the standby is a private server (as pg verify's) stopped and removed at
// the end; with a target it runs on target.data_dir and target.port and is left running.
void postgres_failover_component(const ComponentRun& run, ComponentResult& r, JobContext& ctx);

// What the catch-up wait sees of the standby at one look.
struct CatchUpPoll {
  Lsn replay = 0;                // pg_last_wal_replay_lsn() (0: nothing replayed yet)
  bool waiting_for_wal = false;  // its startup process waits since no source has the WAL it needs next
  double idle_s = 0;             // for how long `replay` has not moved
};

// "" while the standby may still have archived WAL to replay; else why it has replayed all of it.
// Both must hold: its replay has reached the archive's newest whole segment (`newest_segno`; none:
// the archive holds no whole segment), and then either it asked for the next segment and no
// source had it (the startup process waits out wal_retrieve_retry_interval, `retry_s`), or — where
// that wait cannot be seen — its replay stood still over two retries of restore_command.
std::string caught_up(const CatchUpPoll& p, std::optional<uint64_t> newest_segno, uint64_t segment_size,
                      double retry_s);

}  // namespace arca::drill
