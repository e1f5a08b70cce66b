// The `arca server` family: the daemon (cmd_server.cpp), its administration subcommands, and
// the clients that talk to a running server (`arca status|jobs|plans`).
#pragma once
#include <CLI/CLI.hpp>

#include "cli/common.h"

namespace arca {

void register_server_check_config(CLI::App& server, GlobalOptions& g);  // server check-config FILE
void register_server_catalog(CLI::App& server, GlobalOptions& g);       // server catalog rebuild
void register_server_token(CLI::App& server, GlobalOptions& g);         // server token create|list|revoke
void register_server_clients(CLI::App& app, GlobalOptions& g);          // status, jobs, plans

}  // namespace arca
