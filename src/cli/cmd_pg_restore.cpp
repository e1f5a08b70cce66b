// `arca pg restore`: a base backup plus recovery settings into a data directory, optionally
// started and waited for.
// Flags and printing; the work (and starting the server) is ops::pg_restore (ops/pg_restore.h).
#include <iostream>

#include "cli/cli_job.h"
#include "cli/commands.h"
#include "cli/pg_common.h"
#include "ops/error_table.h"
#include "ops/pg_restore.h"
#include "util/error.h"

namespace arca {

namespace {

struct PgRestoreArgs {
  ops::PgRestoreRequest req;
  PgRestoreOptions& o = req.options;
  TargetArgs target;
  std::string snapshot;
  std::vector<std::string> tablespace_map;
};

void print_restored(const ops::PgRestoreOpResult& r, const std::string& note) {
  for (const auto& w : r.restore.warnings) std::cerr << "warning: " << w << "\n";
  if (!note.empty()) std::cerr << "note: " << note << "\n";
  const Snapshot& snap = r.restore.snapshot;
  std::cout << "restored base backup " << snap.id.short_hex() << " (" << snap.source_name << ", "
            << short_time(snap.time) << ") to " << r.data_directory << ": " << human_bytes(r.restore.bytes) << " in "
            << r.restore.files << " files, wrote " << human_bytes(r.restore.bytes_written) << " in "
            << human_duration(r.restore.restore_s) << "\n  recovery target: " << r.target << "\n";
  if (r.started && r.standby)
    std::cout << "  standby started" << (r.port ? " on port " + std::to_string(r.port) : std::string())
              << " and accepts read-only connections after " << human_duration(r.start_s)
              << "; it replays WAL as it is archived\n  its socket directory is " << r.socket_dir
              << "\n  check its lag: SELECT now() - pg_last_xact_replay_timestamp();  promote it: arca pg promote "
                 "--data-dir "
              << r.data_directory << "\n";
  else if (r.started)
    std::cout << "  server started" << (r.port ? " on port " + std::to_string(r.port) : std::string())
              << " and accepts connections after " << human_duration(r.start_s) << " (" << human_duration(r.total_s)
              << " from the start of the restore)\n  its socket directory is " << r.socket_dir
              << " (the backup's settings for programs, libraries and paths are overridden: docs/postgres.md)\n";
  else
    std::cout << "  start it with: pg_ctl -D " << r.data_directory << " start"
              << (r.standby ? " (it stays a standby until 'arca pg promote')" : "") << "\n";
}

}  // namespace

void register_pg_restore(CLI::App& pg, GlobalOptions& g) {
  auto* cmd = pg.add_subcommand("restore",
                                "Restore a PostgreSQL cluster into a data directory, to the latest WAL or a point in "
                                "time, and optionally start it");
  add_global_options(*cmd, g);
  auto a = std::make_shared<PgRestoreArgs>();
  cmd->add_option("--to", a->o.target_dir, "Data directory to restore into (created if missing)")->required();
  cmd->add_option("--from", a->snapshot, "Base backup to use (snapshot id; default: the newest that suits the target)");
  cmd->add_option("--source", a->o.source_name, "Only consider base backups of this source name");
  add_target_options(*cmd, a->target, true);
  cmd->add_flag("--delta", a->o.delta,
                "Update a previous restore in place: write only what differs and REMOVE every file the backup does "
                "not hold. Only for a PostgreSQL data directory (it must hold PG_VERSION) and tablespace locations "
                "holding only PG_* directories; never / or a system directory");
  cmd->add_option("--tablespace-map", a->tablespace_map,
                  "Put tablespace OID at DIR (OID=DIR); repeatable. A backup with tablespaces needs each placed, "
                  "or --tablespace-map-all, or --tablespace-map-all-original")
      ->allow_extra_args(false);
  cmd->add_option("--tablespace-map-all", a->o.tablespace_map_all,
                  "Put every tablespace not named by --tablespace-map at DIR/<OID>");
  cmd->add_flag("--tablespace-map-all-original", a->o.tablespace_map_all_original,
                "Put every tablespace not named by --tablespace-map at the location the backup records (confirm "
                "that you trust those locations: the restore writes there)");
  cmd->add_option("--owner", a->o.owner,
                  "User to own the restored files when run as root (default: the owner of an existing --to directory "
                  "if not root, else 'postgres'; never the owner the backup records)");
  cmd->add_flag(
      "--no-archive", a->o.archive_off,
      "Set archive_mode = off in the restored cluster (a test copy must not archive into the original's archive)");
  cmd->add_flag("--standby", a->o.standby,
                "Set up a warm standby: no recovery target, standby.signal, hot standby; started, it keeps "
                "replaying the WAL archived in the repository (read-only queries work) until 'arca pg promote'");
  cmd->add_flag("--start", a->req.start, "Start the restored server and wait until it accepts connections");
  cmd->add_option("--port", a->req.port, "Port for --start (default: as configured)")->check(CLI::Range(1, 65535));
  cmd->add_option("--start-timeout", a->req.start_timeout, "Seconds to wait for recovery and startup")
      ->capture_default_str();
  cmd->add_option("--pg-bin", a->req.pg_bin,
                  "Directory with pg_ctl and postgres (default: found for the backup's version)");
  cmd->add_option("--threads", a->o.threads, "Parallel restore threads (default: 2 × cores)")
      ->check(CLI::Range(1, 256));
  set_command(*cmd, [&g, a, cmd] {
    if (a->o.standby) {
      const auto& t = a->target;
      for (const char* flag : {"--time", "--lsn", "--xid", "--restore-point", "--action", "--exclusive"})
        if (cmd->count(flag))
          throw Error(ErrorKind::Usage, std::string("--standby and ") + flag +
                                            " exclude each other: a standby has no recovery target, it replays "
                                            "all archived WAL until you promote it ('arca pg promote')");
      if (!t.target.empty() && t.target != "latest")
        throw Error(ErrorKind::Usage, "--standby and --target " + t.target +
                                          " exclude each other: a standby replays all archived WAL until promoted");
    }
    a->o.target = parse_target(a->target, RecoveryTarget::Kind::Latest);
    if (!a->snapshot.empty()) a->o.snapshot = a->snapshot;
    if (!a->o.tablespace_map_all.empty() && a->o.tablespace_map_all_original)
      throw Error(ErrorKind::Usage,
                  "--tablespace-map-all and --tablespace-map-all-original exclude each other: choose one");
    for (const auto& m : a->tablespace_map) {
      auto eq = m.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == m.size())
        throw Error(ErrorKind::Usage, "--tablespace-map " + m + ": expected OID=DIR");
      a->o.tablespace_map[m.substr(0, eq)] = m.substr(eq + 1);
    }
    auto repo = open_repository(g);
    Snapshot chosen = ops::choose_pg_restore_point(*repo, a->req);
    std::string note;
    // A standby asks for the next segment every few seconds: "not in the archive" is its normal
    // state, not worth a line in the server log each time.
    a->o.restore_command = wal_fetch_command(g, snapshot_meta(chosen, "system_id"), note, a->o.standby);
    ops::PgRestoreOpResult r;
    {
      CliJob job(g);
      job.show_progress("pg restore", "files");
      r = ops::pg_restore(*repo, chosen, a->req, job.ctx());
    }
    if (g.json)
      print_json(r.to_json());
    else if (!g.quiet)
      print_restored(r, note);
    return kExitOk;
  });
}

}  // namespace arca
