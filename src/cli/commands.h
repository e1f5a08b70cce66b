// Each command registers itself as a subcommand of the arca application.
#pragma once
#include <CLI/CLI.hpp>

#include "cli/common.h"

namespace arca {

void register_init(CLI::App& app, GlobalOptions& g);
void register_backup(CLI::App& app, GlobalOptions& g);
void register_snapshots(CLI::App& app, GlobalOptions& g);
void register_ls(CLI::App& app, GlobalOptions& g);
void register_restore(CLI::App& app, GlobalOptions& g);
void register_diff(CLI::App& app, GlobalOptions& g);
void register_cat(CLI::App& app, GlobalOptions& g);
void register_check(CLI::App& app, GlobalOptions& g);
void register_copy(CLI::App& app, GlobalOptions& g);
void register_repair(CLI::App& app, GlobalOptions& g);  // repair index|snapshots
void register_stats(CLI::App& app, GlobalOptions& g);
void register_key(CLI::App& app, GlobalOptions& g);
void register_forget(CLI::App& app, GlobalOptions& g);
void register_prune(CLI::App& app, GlobalOptions& g);
void register_unlock(CLI::App& app, GlobalOptions& g);
void register_lock(CLI::App& app, GlobalOptions& g);  // lock add|list|release
void register_mfa(CLI::App& app, GlobalOptions& g);
void register_pg(CLI::App& app, GlobalOptions& g);
void register_redis(CLI::App& app, GlobalOptions& g);
void register_drill(CLI::App& app, GlobalOptions& g);  // drill run|check|list|show
void register_dr(CLI::App& app, GlobalOptions& g);     // dr assess
void register_kafka(CLI::App& app, GlobalOptions& g);
void register_server(CLI::App& app, GlobalOptions& g);  // server, server check-config|catalog|token

}  // namespace arca
