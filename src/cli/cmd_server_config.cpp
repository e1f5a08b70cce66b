// `arca server check-config FILE`: loads the server's configuration as the server would
// (server/config.h) and prints every error with its line and field, or a one-line summary.
#include <iostream>

#include "cli/server_commands.h"
#include "ops/error_table.h"
#include "server/config.h"
#include "server/daemon.h"

namespace arca {

void register_server_check_config(CLI::App& server, GlobalOptions& g) {
  auto* cmd = server.add_subcommand("check-config",
                                    "Check the server's configuration file: every error with its line and field "
                                    "(exit 2), unknown fields included, and secrets readable by others");
  auto file = std::make_shared<std::string>();
  cmd->add_option("FILE", *file, "The configuration file (YAML, docs/server.md)")->required();
  cmd->add_flag("--json", g.json, "Print {\"ok\": …, \"errors\": [{line, column, field, message}]}");
  set_command(*cmd, [&g, file] {
    server::ConfigLoad r = server::load_checked_config(*file);
    if (g.json) {
      nlohmann::json errors = nlohmann::json::array();
      for (const auto& e : r.errors)
        errors.push_back({{"line", e.line}, {"column", e.column}, {"field", e.field}, {"message", e.message}});
      nlohmann::json out = {{"ok", r.errors.empty()}, {"errors", errors}};
      if (r.config)
        out["counts"] = {{"repositories", r.config->repositories.size()},
                         {"sources", r.config->sources.size()},
                         {"plans", r.config->plans.size()}};
      print_json(out);
    } else if (r.config) {
      std::cout << *file << ": OK (" << counted(r.config->repositories.size(), "repository", "repositories") << ", "
                << counted(r.config->sources.size(), "source", "sources") << ", "
                << counted(r.config->plans.size(), "plan", "plans") << ")\n";
    } else {
      for (const auto& e : r.errors) std::cerr << e.to_string(*file) << "\n";
      std::cerr << *file << ": " << counted(r.errors.size(), "error", "errors") << "\n";
    }
    return r.config ? kExitOk : kExitUsage;
  });
}

}  // namespace arca
