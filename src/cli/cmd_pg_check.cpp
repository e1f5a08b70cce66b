// `arca pg check`: is the WAL archive continuous from every base backup (exit 12 if not)?
#include <iostream>

#include "cli/cli_job.h"
#include "cli/commands.h"
#include "cli/pg_common.h"
#include "ops/error_table.h"
#include "ops/pg_wal.h"
#include "repo/wal_names.h"
#include "util/clock.h"

namespace arca {

void register_pg_check(CLI::App& pg, GlobalOptions& g) {
  auto* cmd =
      pg.add_subcommand("check",
                        "Check that the WAL archive is continuous from every base backup to its newest WAL, per "
                        "timeline; exit 12 if there is a gap");
  add_global_options(*cmd, g);
  auto sysid = std::make_shared<std::string>();
  auto conninfo = std::make_shared<std::string>();
  cmd->add_option("--system-id", *sysid, "Cluster to check (default: that of the newest base backup)");
  cmd->add_option("-d,--conn", *conninfo, "Also compare with the live server's current WAL position");
  set_command(*cmd, [&g, sysid, conninfo] {
    auto repo = open_repository(g);
    ops::PgCheckRequest req;
    req.system_id = sysid->empty() ? 0 : ops::parse_system_id(*sysid);
    req.conninfo = *conninfo;
    CliJob job(g);
    auto res = ops::pg_check(*repo, req, job.ctx());
    const auto& rep = res.report;
    if (g.json) {
      print_json(res.to_json());
    } else {
      std::cout << "WAL archive of cluster " << rep.system_id << ": " << (rep.ok() ? "continuous" : "GAPS FOUND")
                << "\n";
      for (const auto& t : rep.timelines) {
        std::cout << "  timeline " << t.timeline;
        if (t.parent)
          std::cout << " (from timeline " << *t.parent << (t.switch_lsn ? " at " + format_lsn(*t.switch_lsn) : "")
                    << ")";
        if (t.segments)
          std::cout << ": " << t.segments << " segments " << t.first << " .. " << t.last
                    << (t.last_is_partial ? " (newest in progress)" : "");
        std::cout << "\n";
        for (const auto& gp : t.gaps)
          std::cout << "    GAP: " << gp.first_missing << " .. " << gp.last_missing << " missing\n";
      }
      for (const auto& b : rep.backups) {
        std::cout << "  base backup " << b.snapshot.id.short_hex() << " (" << short_time(b.snapshot.time) << "): ";
        if (b.continuous)
          std::cout << "recoverable to " << b.recoverable_to << " (timeline " << b.end_timeline << ")\n";
        else
          std::cout << "recoverable only to " << b.recoverable_to << "; then missing " << b.first_gap->first_missing
                    << " .. " << b.first_gap->last_missing << "\n";
      }
      if (rep.server_lsn)
        std::cout << "  server is at " << format_lsn(*rep.server_lsn) << ": the archive is " << rep.segments_behind
                  << " segment(s) behind\n";
    }
    return res.exit_code();
  });
}

}  // namespace arca
