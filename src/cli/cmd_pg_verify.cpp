// `arca pg verify`: restore a recovery point into a scratch server, run integrity checks,
// report them with the measured restore time (RTO sample) and recovery point age (RPO sample).
// Flags and printing; the work is ops::pg_verify (ops/pg_verify.h).
#include <iostream>

#include "cli/cli_job.h"
#include "cli/commands.h"
#include "cli/pg_common.h"
#include "ops/pg_verify.h"

namespace arca {

namespace {

void print_verify(const PgVerifyResult& r) {
  std::cout << "verify of base backup " << r.snapshot.id.short_hex() << " (" << r.snapshot.source_name << ", "
            << short_time(r.snapshot.time) << "): " << (r.passed() ? "PASSED" : "FAILED") << "\n"
            << "  restore " << human_duration(r.restore_s) << " + start " << human_duration(r.start_s)
            << " = RTO sample " << human_duration(r.restore_s + r.start_s) << "; recovery point age (RPO sample) "
            << human_duration(r.recovery_point_age_s) << "\n";
  for (const auto& c : r.checks) {
    std::string status = c.skipped ? "skip" : c.passed ? " ok " : "FAIL";
    std::cout << "  [" << status << "] " << c.name << (c.database.empty() ? "" : " (" + c.database + ")") << ": "
              << c.detail << "\n";
  }
  if (!r.scratch.empty()) std::cout << "  scratch data directory kept: " << r.scratch << "/data\n";
}

}  // namespace

void register_pg_verify(CLI::App& pg, GlobalOptions& g) {
  auto* cmd = pg.add_subcommand("verify",
                                "Prove a base backup restores: restore it into a scratch server, start it, run "
                                "integrity checks, clean up. Exit 12 if a check fails");
  add_global_options(*cmd, g);
  auto o = std::make_shared<PgVerifyOptions>();
  cmd->add_option(
         "snapshot", o->snapshot,
         "Base backup (snapshot id or 'latest'); with --time, --lsn, --xid, --restore-point or --target latest "
         "the restore replays archived WAL to that point (default: the backup's own consistent point)")
      ->capture_default_str();
  cmd->add_option("--source", o->source_name, "With 'latest': the newest base backup of this source name");
  cmd->add_option("--checks", o->checks_file,
                  "File of your own SQL checks, each with an expectation (see docs/postgres.md)");
  cmd->add_option("--scratch", o->scratch_parent,
                  "Directory for the scratch data directory (default: $TMPDIR or /tmp)");
  cmd->add_option("--pg-bin", o->pg_bin,
                  "Directory with pg_ctl and postgres (default: found for the backup's version)");
  cmd->add_option(
      "--owner", o->owner,
      "User to run the scratch server as when run as root (default: 'postgres'; never the owner the backup records)");
  cmd->add_flag("--thorough", o->thorough, "amcheck also verifies that every heap row is indexed (slower)");
  cmd->add_flag("--keep", o->keep, "Keep the scratch data directory for inspection");
  cmd->add_option("--threads", o->threads, "Parallel restore threads (default: 2 × cores)")->check(CLI::Range(1, 256));
  auto target = std::make_shared<TargetArgs>();
  add_target_options(*cmd, *target, false);
  set_command(*cmd, [&g, o, target] {
    o->target = parse_target(*target, RecoveryTarget::Kind::Immediate);
    auto repo = open_repository(g);
    if (auto base = ops::pg_verify_replay_point(*repo, *o)) {
      std::string note;
      o->restore_command = wal_fetch_command(g, snapshot_meta(*base, "system_id"), note);
    }
    ops::PgVerifyOpResult res;
    {
      CliJob job(g);
      job.show_progress("pg verify: restore", "files");
      res = ops::pg_verify(*repo, *o, job.ctx());
    }
    if (g.json)
      print_json(res.to_json());
    else if (!g.quiet)
      print_verify(res.verify);
    return res.exit_code();
  });
}

}  // namespace arca
