// The arca command: parses arguments, runs one subcommand, maps errors to documented exit codes.
#include <csignal>
#include <iostream>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "util/error.h"

using namespace arca;

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"arca " ARCA_VERSION " — encrypted, deduplicating backup and recovery.\n"
               "Exit codes: 0 ok, 1 error, 2 usage, 3 partial (some files unreadable/unrestorable),\n"
               "10 not found, 11 wrong password/key, 12 corruption, 13 disk full, 14 unsupported format.",
               "arca"};
  app.require_subcommand(1);
  app.set_version_flag("--version", ARCA_VERSION);
  GlobalOptions g;
  register_init(app, g);
  register_backup(app, g);
  register_snapshots(app, g);
  register_ls(app, g);
  register_restore(app, g);
  register_diff(app, g);
  register_cat(app, g);
  register_check(app, g);
  register_stats(app, g);
  register_key(app, g);
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
    std::cerr << "arca: error: " << e.what() << std::endl;
    return exit_code_for(e.kind());
  } catch (const std::exception& e) {
    std::cerr << "arca: error: " << e.what() << std::endl;
    return kExitError;
  }
}
