// `arca pg`: the PostgreSQL commands, and `arca pg backup` (base backups).
#include <iostream>

#include "cli/cli_job.h"
#include "cli/commands.h"
#include "cli/pg_common.h"
#include "ops/error_table.h"
#include "ops/pg_backup.h"
#include "sources/postgres/wal_archive.h"
#include "util/error.h"

namespace arca {

namespace {

void register_pg_backup(CLI::App& pg, GlobalOptions& g) {
  auto* cmd =
      pg.add_subcommand("backup", "Take a physical base backup of a PostgreSQL cluster over the replication protocol");
  add_global_options(*cmd, g);
  auto o = std::make_shared<PgBackupOptions>();
  add_conn_option(*cmd, o->conninfo);
  cmd->add_option("--name", o->name, "Source name for this cluster's recovery points (default: postgres-<system id>)");
  add_tags_option(*cmd, "--tag", o->tags, "Tag the recovery point (a,b is two tags; repeatable)");
  host_option(cmd->add_option("--host", o->host, "Host name to record (default: this machine's)"));
  // Callbacks, not "!" flags: those show the inverted default as "{false}" in the help.
  cmd->add_flag_callback(
      "--spread-checkpoint", [o] { o->fast_checkpoint = false; },
      "Let the server spread its checkpoint out (slower start, gentler on a busy server)");
  cmd->add_flag_callback(
      "--no-row-counts", [o] { o->row_counts = false; },
      "Do not count table rows after the backup (verify then cannot compare counts)");
  cmd->add_option("--row-count-limit", o->row_count_limit, "Skip counting tables estimated above this many rows")
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "Worker threads (default: number of cores)")->check(CLI::Range(1, 256));
  set_command(*cmd, [&g, o] {
    auto repo = open_repository(g);
    Snapshot snap;
    {
      CliJob job(g);
      job.show_progress("pg backup", "files");
      snap = ops::pg_backup(*repo, *o, job.ctx()).snapshot;
    }
    if (report_saved_snapshot(g, snap)) {
      const auto& s = snap.stats;
      auto meta = [&](const char* k) {
        return snap.metadata[k]["value"].is_string() ? snap.metadata[k]["value"].get<std::string>()
                                                     : snap.metadata[k]["value"].dump();
      };
      double rate = s.duration_s > 0 ? double(s.bytes) / s.duration_s : 0;
      std::cout << "base backup " << snap.id.short_hex() << " saved (" << snap.source_name << ", PostgreSQL "
                << meta("server_version") << ")\n"
                << "  WAL:    " << meta("start_lsn") << " .. " << meta("stop_lsn") << " on timeline "
                << meta("timeline") << " (included)\n"
                << "  data:   " << human_bytes(s.bytes) << " in " << s.files << " files, "
                << human_duration(s.duration_s) << " (" << human_bytes(uint64_t(rate)) << "/s)\n"
                << "  added:  " << human_bytes(s.bytes_added) << " new data, " << human_bytes(s.stored_added)
                << " stored after compression and encryption\n";
    }
    return kExitOk;
  });
}

void register_pg_dump(CLI::App& pg, GlobalOptions& g) {
  auto* cmd = pg.add_subcommand(
      "dump", "Logical export of chosen databases, schemas or tables with pg_dump, streamed into the repository");
  add_global_options(*cmd, g);
  auto o = std::make_shared<PgDumpOptions>();
  add_conn_option(*cmd, o->conninfo);
  cmd->add_option("--db", o->databases, "Database to export; repeatable (default: every database)")
      ->allow_extra_args(false);
  cmd->add_option("-n,--schema", o->schemas, "Only this schema (pg_dump -n pattern); repeatable")
      ->allow_extra_args(false);
  cmd->add_option("-t,--table", o->tables, "Only this table (pg_dump -t pattern); repeatable")->allow_extra_args(false);
  cmd->add_option("-T,--exclude-table", o->exclude_tables, "Leave this table out (pg_dump -T pattern); repeatable")
      ->allow_extra_args(false);
  cmd->add_option("--name", o->name, "Source name for these exports (default: postgres-dump)");
  add_tags_option(*cmd, "--tag", o->tags, "Tag the recovery point (a,b is two tags; repeatable)");
  host_option(cmd->add_option("--host", o->host, "Host name to record (default: this machine's)"));
  cmd->add_option("--pg-bin", o->pg_bin, "Directory with pg_dump (default: found for the server's version)");
  set_command(*cmd, [&g, o] {
    auto repo = open_repository(g);
    Snapshot snap;
    {
      CliJob job(g);
      job.show_progress("pg dump", "databases");
      snap = ops::pg_dump(*repo, *o, job.ctx()).snapshot;
    }
    if (report_saved_snapshot(g, snap)) {
      std::cout << "logical dump " << snap.id.short_hex() << " saved: " << snap.paths.size() << " database(s), "
                << human_bytes(snap.stats.bytes) << " in " << human_duration(snap.stats.duration_s) << "; added "
                << human_bytes(snap.stats.stored_added) << " after deduplication, compression and encryption\n";
    }
    return kExitOk;
  });
}

void register_pg_restore_logical(CLI::App& pg, GlobalOptions& g) {
  auto* cmd =
      pg.add_subcommand("restore-logical",
                        "Restore a logical dump into a database with pg_restore, or write it to stdout for pg_restore");
  add_global_options(*cmd, g);
  auto o = std::make_shared<PgRestoreLogicalOptions>();
  cmd->add_option("snapshot", o->snapshot, "The dump (snapshot id or 'latest')")->required();
  cmd->add_option("--db", o->database, "Which database of the dump (default: the only one)");
  add_conn_option(*cmd, o->conninfo);
  cmd->add_flag("--stdout", o->to_stdout,
                "Write the dump (pg_dump custom format) to stdout: arca … --stdout | pg_restore …");
  cmd->add_flag("--clean", o->clean, "Drop objects before recreating them (pg_restore --clean --if-exists)");
  cmd->add_flag("--create", o->create, "Create the database first (connect -d to another database, e.g. postgres)");
  cmd->add_option("-t,--table", o->tables, "Restore only this table; repeatable")->allow_extra_args(false);
  cmd->add_option("--pg-bin", o->pg_bin, "Directory with pg_restore (default: found for the server's version)");
  set_command(*cmd, [&g, o] {
    auto repo = open_repository(g);
    uint64_t bytes = pg_restore_logical(*repo, *o);
    if (o->to_stdout) return kExitOk;
    if (g.json)
      print_json({{"snapshot", o->snapshot}, {"bytes", bytes}, {"database", o->database}});
    else if (!g.quiet)
      std::cout << "restored " << human_bytes(bytes) << " of dump data with pg_restore\n";
    return kExitOk;
  });
}

}  // namespace

void register_pg_restore(CLI::App& pg, GlobalOptions& g);
void register_pg_verify(CLI::App& pg, GlobalOptions& g);
void register_wal_push(CLI::App& pg, GlobalOptions& g);
void register_wal_fetch(CLI::App& pg, GlobalOptions& g);
void register_wal_stream(CLI::App& pg, GlobalOptions& g);
void register_pg_check(CLI::App& pg, GlobalOptions& g);
void register_pg_promote(CLI::App& pg, GlobalOptions& g);

void register_pg(CLI::App& app, GlobalOptions& g) {
  auto* pg = app.add_subcommand(
      "pg", "PostgreSQL: base backups, WAL archiving, point-in-time restore, warm standby, verification");
  pg->require_subcommand(1);
  register_pg_backup(*pg, g);
  register_wal_push(*pg, g);
  register_wal_fetch(*pg, g);
  register_pg_restore(*pg, g);
  register_pg_verify(*pg, g);
  register_pg_promote(*pg, g);
  register_wal_stream(*pg, g);
  register_pg_check(*pg, g);
  register_pg_dump(*pg, g);
  register_pg_restore_logical(*pg, g);
}

}  // namespace arca
