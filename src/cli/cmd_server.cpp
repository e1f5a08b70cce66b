// `arca server`: the daemon in the foreground (docs/server.md), and its subcommands.
#include "cli/commands.h"
#include "cli/server_commands.h"

namespace arca {

void register_server(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("server", "Run Arca's server: plans on schedules, the job catalog, the HTTP API and metrics");
  register_server_check_config(*cmd, g);
  register_server_catalog(*cmd, g);
  register_server_token(*cmd, g);
}

}  // namespace arca
