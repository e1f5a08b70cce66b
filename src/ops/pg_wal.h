// The WAL commands as operations. `pg wal-push` / `pg wal-fetch`: one WAL file into or out of
// the archive (PostgreSQL's archive_command / restore_command), with the batch pushed and the
// segments prefetched alongside. `pg wal-stream`: WAL streamed over a replication slot into
// the archive until the job is cancelled (its normal end: the result says what was archived).
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "repo/repository.h"
#include "sources/postgres/wal_continuity.h"
#include "sources/postgres/wal_records.h"
#include "sources/postgres/wal_stream.h"
#include "util/job_context.h"

namespace arca::ops {

// --system-id as given: the decimal number pg_controldata shows; else Error(Usage).
uint64_t parse_system_id(const std::string& s);

// `pg wal-push`: archive one WAL file; the same content again is accepted, different content
// under an archived name is refused (Error from WalArchive::push).
struct WalPushRequest {
  std::string path;        // the WAL file (PostgreSQL's %p)
  std::string system_id;   // "" = from the segment's header, else pg_control in `pgdata`
  std::string pgdata;      // "" = the current directory
  unsigned batch = 8;      // also push up to this many other ready segments (0: none)
  std::string spool;       // markers of segments pushed ahead; "" = next to pg_wal
  std::string repository;  // the repository's location, names the default spool
};

struct WalPushResult {
  enum class Status { Stored, AlreadyArchived, PushedAhead } status = Status::Stored;
  std::string file;
  uint64_t system_id = 0, bytes = 0;
  size_t pushed_ahead = 0;
  nlohmann::json to_json() const;  // pg wal-push --json
};

// `repo` is called only when the file was not already pushed by an earlier call's batch.
// Segments that fail to push ahead are warnings (event "pg.wal_push_ahead_failed").
WalPushResult wal_push(const std::function<Repository&()>& repo, const WalPushRequest& req, JobContext& ctx);

// `pg wal-fetch`: one WAL file out of the archive into `destination`, then the following ones
// into the spool. Throws on any failure to read (the CLI's exit 126: recovery must stop, not end
// early); a file that is not archived is a result (exit 1: recovery ends there).
struct WalFetchRequest {
  std::string file;         // WAL file name (PostgreSQL's %f)
  std::string destination;  // PostgreSQL's %p
  std::string system_id;    // "" = from pg_control in `pgdata`
  std::string pgdata;       // "" = the current directory
  unsigned prefetch = 8;    // also fetch this many following segments into the spool (0: none)
  std::string spool;        // "" = pg_wal/arca-prefetch
};

struct WalFetchResult {
  enum class Status { Fetched, FromSpool, NotInArchive } status = Status::Fetched;
  uint64_t bytes = 0;  // when Fetched
  int exit_code() const { return status == Status::NotInArchive ? 1 : 0; }
};

// `repo` is called only when the file was not prefetched by an earlier call. A failed prefetch
// is a warning (event "pg.wal_prefetch_failed").
WalFetchResult wal_fetch(const std::function<Repository&()>& repo, const WalFetchRequest& req, JobContext& ctx);

// The restore_command that runs `pg wal-fetch` of this program against a repository, every
// argument shell-quoted with its '%' doubled (PostgreSQL substitutes %f and %p in it). Credentials
// go by file only: the command is written into postgresql.auto.conf and shown by ps.
struct WalFetchCommand {
  std::string repository;              // a location; a local path is made absolute (the command runs in the data directory)
  std::string key_file, password_file;  // one of them, or neither (ARCA_PASSWORD in the server's environment)
  std::vector<std::string> options;    // KEY=VALUE backend options
  std::string system_id;               // "" = from the data directory's pg_control
  bool quiet = false;
};
std::string wal_fetch_command(const WalFetchCommand& c);

struct WalStreamRequest {
  WalStreamOptions options;
  std::function<void(const std::string&)> log;  // connection events, as they happen
  // Counters the caller reads while the stream runs (a server's live stream status); null: the
  // call keeps its own.
  WalStreamStatus* status = nullptr;
};

struct WalStreamResult {
  uint64_t received = 0, segments = 0, pieces = 0, flushed_lsn = 0, reconnects = 0;
  nlohmann::json to_json() const;  // pg wal-stream --json, last line
};

// `pg check`: is the WAL archive continuous from every base backup, per timeline (exit 12 if not)?
struct PgCheckRequest {
  uint64_t system_id = 0;  // 0: that of the newest base backup
  std::string conninfo;    // also compare with this live server's WAL position ("" = none)
};

struct PgCheckResult {
  WalContinuityReport report;
  int exit_code() const;           // 0 continuous, 12 a gap
  nlohmann::json to_json() const;  // pg check --json
};

PgCheckResult pg_check(Repository& repo, const PgCheckRequest& req, JobContext& ctx);

// Throws Error(Usage) for a malformed slot name before connecting.
WalStreamResult wal_stream(Repository& repo, const WalStreamRequest& req, JobContext& ctx);

// `dr assess`: the newest commit a restore of base backup `backup` to the latest point would
// replay, read from the archived WAL itself. Follows the path `pg check` finds from the backup's
// end (its timeline, then timelines branched later, up to the first gap) and reads it backwards
// from its newest segment (whole or streamed pieces) until a segment holds a commit at or after
// the backup's stop LSN, reading at most `max_segments`. Segments older than the one that holds
// the commit are not read (damage there is `pg check`'s and a restore's to find).
struct ArchivedCommit {
  std::optional<WalXactEnd> commit;  // none: `note` says why
  std::string segment;               // the archived segment holding it
  uint64_t segments_read = 0;
  std::string note;
};
ArchivedCommit newest_archived_commit(Repository& repo, const Snapshot& backup, unsigned max_segments = 64);

}  // namespace arca::ops
