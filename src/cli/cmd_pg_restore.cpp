// `arca pg restore`: a base backup plus recovery settings into a data directory, optionally
// started and waited for.
#include <chrono>
#include <iostream>

#include "cli/commands.h"
#include "ops/error_table.h"
#include "cli/pg_common.h"
#include "cli/progress_display.h"
#include "sources/postgres/cluster_restore.h"
#include "sources/postgres/pg_server.h"
#include "sources/postgres/wal_names.h"
#include "sources/postgres/wal_prefetch.h"
#include "util/error.h"

namespace arca {

namespace {

struct PgRestoreArgs {
  PgRestoreOptions o;
  TargetArgs target;
  std::string snapshot, pg_bin;
  std::vector<std::string> tablespace_map;
  bool start = false;
  int port = 0, start_timeout = 3600;
};

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
  cmd->add_flag("--start", a->start, "Start the restored server and wait until it accepts connections");
  cmd->add_option("--port", a->port, "Port for --start (default: as configured)")->check(CLI::Range(1, 65535));
  cmd->add_option("--start-timeout", a->start_timeout, "Seconds to wait for recovery and startup")
      ->capture_default_str();
  cmd->add_option("--pg-bin", a->pg_bin,
                  "Directory with pg_ctl and postgres (default: found for the backup's version)");
  cmd->add_option("--threads", a->o.threads, "Parallel restore threads (default: 2 × cores)")
      ->check(CLI::Range(1, 256));
  set_command(*cmd, [&g, a] {
    auto t0 = std::chrono::steady_clock::now();
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
    Snapshot chosen = choose_base_backup(*repo, a->o);
    std::string note;
    a->o.restore_command = wal_fetch_command(g, snapshot_meta(chosen, "system_id"), note);
    a->o.snapshot = chosen.id.hex();
    std::string bin;
    if (a->start) bin = find_pg_bin(backup_major_version(chosen), a->pg_bin);  // before writing anything
    ProgressCounters progress;
    progress.bytes_total = chosen.stats.bytes;
    progress.totals_known = true;
    PgRestoreResult r;
    {
      ProgressDisplay display(progress, "pg restore", "files", show_progress(g));
      r = pg_restore_cluster(*repo, a->o, progress);
    }
    double start_s = 0;
    int port = a->port;
    std::string socket_dir;
    if (a->start) {
      auto ts = std::chrono::steady_clock::now();
      PgServer server(bin, std::filesystem::absolute(a->o.target_dir).string());
      server.start(port, {}, a->start_timeout, a->o.restore_command, false);
      socket_dir = server.run_dir();
      // pg_ctl returns once the server accepts (read-only) connections, which may be long before
      // the recovery target: with promotion, the wait goes on until it is a primary.
      if (a->o.target.action == "promote") {
        server.wait_promoted(a->start_timeout);
        server.drop_credentials();
        std::error_code ec;  // recovery is over: segments fetched ahead are not needed any more
        std::filesystem::remove_all(default_wal_spool(std::filesystem::absolute(a->o.target_dir).string()), ec);
      }
      start_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - ts).count();
      server.release();  // keeps running after arca exits
    }
    double total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (g.json) {
      print_json({{"snapshot", r.snapshot.id.hex()},
                  {"data_directory", a->o.target_dir},
                  {"target", a->o.target.describe()},
                  {"bytes", r.bytes},
                  {"bytes_written", r.bytes_written},
                  {"files", r.files},
                  {"restore_s", r.restore_s},
                  {"started", a->start},
                  {"port", a->start ? port : 0},
                  {"start_s", start_s},
                  {"total_s", total_s},
                  {"warnings", r.warnings}});
    } else if (!g.quiet) {
      for (const auto& w : r.warnings) std::cerr << "warning: " << w << "\n";
      if (!note.empty()) std::cerr << "note: " << note << "\n";
      std::cout << "restored base backup " << r.snapshot.id.short_hex() << " (" << r.snapshot.source_name << ", "
                << short_time(r.snapshot.time) << ") to " << a->o.target_dir << ": " << human_bytes(r.bytes) << " in "
                << r.files << " files, wrote " << human_bytes(r.bytes_written) << " in " << human_duration(r.restore_s)
                << "\n  recovery target: " << a->o.target.describe() << "\n";
      if (a->start)
        std::cout << "  server started" << (port ? " on port " + std::to_string(port) : std::string())
                  << " and accepts connections after " << human_duration(start_s) << " (" << human_duration(total_s)
                  << " from the start of the restore)\n  its socket directory is " << socket_dir
                  << " (the backup's settings for programs, libraries and paths are overridden: "
                     "docs/postgres.md)\n";
      else
        std::cout << "  start it with: pg_ctl -D " << a->o.target_dir << " start\n";
    }
    return kExitOk;
  });
}

}  // namespace arca
