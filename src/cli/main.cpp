// The arca command: parses arguments, runs one subcommand, maps errors to documented exit codes.
#include <csignal>
#include <iostream>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "storage/s3/s3_options.h"
#include "util/error.h"

using namespace arca;

// Errors always go to stderr; with --json, stdout also gets {"error": {...}} so that a machine
// reading stdout learns what happened.
static int report_error(const GlobalOptions& g, const std::string& message, int code) {
  std::cerr << "arca: error: " << message << std::endl;
  if (g.json) print_json({{"error", {{"message", message}, {"exit_code", code}}}});
  return code;
}

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"arca " ARCA_VERSION " — encrypted, deduplicating backup and recovery.\n"
               "Exit codes: 0 ok, 1 error, 2 usage, 3 partial (some files unreadable/unrestorable),\n"
               "10 not found, 11 wrong password/key, 12 corruption, 13 disk full, 14 unsupported format.",
               "arca"};
  app.require_subcommand(1);
  app.set_version_flag("--version", ARCA_VERSION);
  GlobalOptions g;
  add_global_options(app, g);  // accepted before the command too: `arca --repo R snapshots`
  register_init(app, g);
  register_backup(app, g);
  register_snapshots(app, g);
  register_ls(app, g);
  register_restore(app, g);
  register_diff(app, g);
  register_cat(app, g);
  register_check(app, g);
  register_repair(app, g);
  register_stats(app, g);
  register_key(app, g);
  register_forget(app, g);
  register_prune(app, g);
  register_unlock(app, g);
  register_lock(app, g);
  register_mfa(app, g);
  register_pg(app, g);
  register_redis(app, g);
  register_kafka(app, g);
  auto* help_opts = app.add_subcommand("help-options", "List the backend settings accepted by -o KEY=VALUE");
  set_command(*help_opts, [] {
    std::cout << s3_options_help();
    return 0;
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  try {
    int rc = run_selected(app);
    return rc < 0 ? kExitUsage : rc;
  } catch (const Error& e) {
    return report_error(g, e.what(), exit_code_for(e.kind()));
  } catch (const std::exception& e) {
    return report_error(g, e.what(), kExitError);
  }
}
