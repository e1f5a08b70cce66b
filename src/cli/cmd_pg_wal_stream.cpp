// `arca pg wal-stream`: WAL streamed over a replication slot until SIGINT/SIGTERM.
#include <iostream>

#include "cli/cli_job.h"
#include "cli/commands.h"
#include "cli/pg_common.h"
#include "ops/error_table.h"
#include "ops/pg_wal.h"
#include "repo/wal_names.h"
#include "util/clock.h"

namespace arca {

void register_wal_stream(CLI::App& pg, GlobalOptions& g) {
  auto* cmd = pg.add_subcommand("wal-stream",
                                "Stream WAL continuously over a replication slot into the archive (as pg_receivewal "
                                "does); runs until stopped with SIGINT/SIGTERM");
  add_global_options(*cmd, g);
  auto o = std::make_shared<WalStreamOptions>();
  add_conn_option(*cmd, o->conninfo);
  cmd->add_option("--slot", o->slot, "Physical replication slot to stream from")->capture_default_str();
  cmd->add_flag("--create-slot", o->create_slot, "Create the slot if it does not exist");
  cmd->add_option("--flush-interval", o->flush_interval,
                  "Seconds between stores of the segment being written (the data-loss window)")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 3600.0));
  cmd->add_option("--retry-interval", o->retry_interval, "Seconds between reconnection attempts")
      ->capture_default_str();
  cmd->add_option("--give-up-after", o->give_up_after, "Fail after this many seconds without a connection (0: never)")
      ->capture_default_str();
  set_command(*cmd, [&g, o] {
    ops::WalStreamRequest req;
    req.options = *o;
    req.log = [&g](const std::string& m) {
      if (g.json)
        print_json({{"time", now_rfc3339()}, {"event", m}});
      else if (!g.quiet)
        std::cerr << now_rfc3339().substr(0, 19) << " arca pg wal-stream: " << m << std::endl;
    };
    auto repo = open_repository(g);
    ops::WalStreamResult st;
    {
      CliJob job(g);  // SIGINT/SIGTERM end the stream: its normal end, exit 0
      st = ops::wal_stream(*repo, req, job.ctx());
    }
    if (g.json)
      print_json(st.to_json());
    else if (!g.quiet)
      std::cerr << "stopped: received " << human_bytes(st.received) << ", stored " << st.segments
                << " whole segments and " << st.pieces << " pieces; archived up to " << format_lsn(st.flushed_lsn)
                << "\n";
    return kExitOk;
  });
}

}  // namespace arca
