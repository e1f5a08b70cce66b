// `arca server --config FILE` in the foreground: loads the configuration, opens the catalog,
// recovers what a previous run left, then schedules, serves the API and metrics, and notifies,
// until SIGTERM or SIGINT (running jobs cancelled through their job context and recorded
// CANCELED). SIGHUP reloads the file: a bad file keeps the running configuration and says why.
#pragma once
#include <string>

#include "server/config.h"

namespace arca::server {

// load_config, then the schedules' own checks (cron fields, time zones): everything the server
// refuses to start or reload with. `arca server check-config` prints the same.
ConfigLoad load_checked_config(const std::string& path);

// Returns the process's exit code (ops/error_table.h): 0 after a graceful stop, 2 for a bad
// configuration.
int run_server(const std::string& config_path);

}  // namespace arca::server
