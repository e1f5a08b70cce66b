// `arca pg promote`: ends the recovery of a running standby and reports the failover's numbers.
// Flags and printing; the work is ops::pg_promote (ops/pg_standby.h).
#include <iostream>

#include "cli/cli_job.h"
#include "cli/commands.h"
#include "cli/pg_common.h"
#include "ops/error_table.h"
#include "ops/pg_standby.h"

namespace arca {

namespace {

void print_promoted(const ops::PgPromoteResult& r) {
  for (const auto& w : r.warnings) std::cerr << "warning: " << w << "\n";
  std::cout << "promoted the standby on " << r.data_directory << " (port " << r.port << ") in "
            << human_duration(r.promote_s) << ": it accepts writes\n  last WAL replayed: "
            << (r.after.replay_lsn.empty() ? "none" : r.after.replay_lsn) << "\n  last commit replayed: "
            << (r.after.last_commit_time.empty() ? "none (no transaction since the base backup)"
                                                 : r.after.last_commit_time)
            << "\n";
}

}  // namespace

void register_pg_promote(CLI::App& pg, GlobalOptions& g) {
  auto* cmd = pg.add_subcommand("promote",
                                "Promote a running standby ('arca pg restore --standby') to a primary, wait until it "
                                "accepts writes, and report how long it took and the last commit it replayed");
  add_global_options(*cmd, g);
  auto req = std::make_shared<ops::PgPromoteRequest>();
  cmd->add_option("-D,--data-dir", req->server.data_directory, "The standby's data directory")->required();
  cmd->add_option("--timeout", req->timeout_s, "Seconds to wait for the promotion to finish")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  cmd->add_option("-d,--conn", req->server.conninfo,
                  "How to connect to the standby (libpq string or URI; default: its socket and port from "
                  "postmaster.pid, as the data directory's owner when run as root)");
  set_command(*cmd, [&g, req] {
    ops::PgPromoteResult r;
    {
      CliJob job(g);
      r = ops::pg_promote(*req, job.ctx());
    }
    if (g.json)
      print_json(r.to_json());
    else if (!g.quiet)
      print_promoted(r);
    else
      for (const auto& w : r.warnings) std::cerr << "warning: " << w << "\n";
    return kExitOk;
  });
}

}  // namespace arca
