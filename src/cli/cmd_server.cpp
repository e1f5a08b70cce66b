// `arca server`: the daemon in the foreground (docs/server.md), and its subcommands.
#include "cli/commands.h"
#include "cli/server_commands.h"
#include "server/daemon.h"

namespace arca {

void register_server(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand(
      "server",
      "Run Arca's server in the foreground: plans on schedules, the job catalog, the HTTP API and metrics "
      "(SIGHUP reloads the configuration, SIGTERM stops after cancelling running jobs)");
  auto config = std::make_shared<std::string>("/etc/arca/server.yaml");
  cmd->add_option("--config,-c", *config, "The configuration file (docs/server.md)")->capture_default_str();
  cmd->require_subcommand(0, 1);
  register_server_check_config(*cmd, g);
  register_server_catalog(*cmd, g);
  register_server_token(*cmd, g);
  set_command(*cmd, [config] { return server::run_server(*config); });
}

}  // namespace arca
