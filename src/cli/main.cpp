// The arca command: parses arguments, runs one subcommand, maps errors to documented exit codes.
#include <algorithm>
#include <csignal>
#include <iostream>
#include <sstream>
#include <vector>

#include "cli/commands.h"
#include "cli/server_commands.h"
#include "cli/process_hardening.h"
#include "util/name_format.h"
#include "ops/error_table.h"
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

// The command word of a command line CLI11 could not place: the first argument that is neither
// an option nor an option's value. Empty if there is none.
static std::string command_word(CLI::App& app, int argc, char** argv) {
  for (int i = 1; i < argc; i++) {
    std::string arg = argv[i];
    if (arg.rfind("-", 0) != 0) return arg;
    if (arg.find('=') != std::string::npos) continue;
    const CLI::Option* o = app.get_option_no_throw(arg);
    if (o && o->get_expected_min() > 0) i++;  // its value
  }
  return "";
}

// "unknown command 'snapshot', did you mean 'snapshots'?" instead of CLI11's "A subcommand is
// required" when the word is a typo.
static std::string unknown_command(CLI::App& app, const std::string& word) {
  std::string best;
  size_t best_d = 3;  // at most two edits away
  for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    size_t d = edit_distance(word, sub->get_name());
    if (d < best_d || (sub->get_name().rfind(word, 0) == 0 && best.empty())) best_d = d, best = sub->get_name();
  }
  return "unknown command '" + word + "'" + (best.empty() ? "; see 'arca --help'" : ", did you mean '" + best + "'?");
}

// "Exit codes: 0 ok, 1 error, ..." from the one table, wrapped for a terminal.
static std::string exit_codes_help() {
  std::string out = "Exit codes:", line;
  for (const auto& d : exit_code_docs()) {
    std::string item = " " + std::to_string(d.code) + " " + d.meaning + ";";
    if (line.size() + item.size() > 100) {
      out += line + "\n";
      line.clear();
    }
    line += item;
  }
  line.pop_back();
  return out + line + ".";
}

int main(int argc, char** argv) {
  disable_core_dumps();  // before any key is read: see docs/security.md
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"arca " ARCA_VERSION " — encrypted, deduplicating backup and recovery.\n" + exit_codes_help(), "arca"};
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
  register_copy(app, g);
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
  register_drill(app, g);
  register_dr(app, g);
  register_kafka(app, g);
  register_server(app, g);
  register_server_clients(app, g);
  auto* help_opts = app.add_subcommand("help-options", "List the backend settings accepted by -o KEY=VALUE");
  auto help_json = std::make_shared<bool>(false);
  help_opts->add_flag("--json", *help_json, "As JSON: [{\"key\", \"value\", \"description\"}]");
  set_command(*help_opts, [help_json] {
    if (!*help_json) {
      std::cout << s3_options_help();
      return 0;
    }
    // The text's option lines are "  key=VALUE   description", continued by indented lines.
    nlohmann::json out = nlohmann::json::array();
    std::istringstream in(s3_options_help());
    for (std::string line; std::getline(in, line);) {
      size_t start = line.find_first_not_of(' ');
      if (start == 2 && line.find('=') != std::string::npos) {
        size_t eq = line.find('='), gap = line.find("  ", eq);
        std::string desc = gap == std::string::npos ? "" : line.substr(line.find_first_not_of(' ', gap));
        out.push_back(
            {{"key", line.substr(2, eq - 2)}, {"value", line.substr(eq + 1, gap - eq - 1)}, {"description", desc}});
      } else if (start != std::string::npos && start > 2 && !out.empty()) {
        out.back()["description"] = out.back()["description"].get<std::string>() + " " + line.substr(start);
      }
    }
    print_json(out);
    return 0;
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (app.get_subcommands().empty() && e.get_exit_code() != 0) {
      std::string word = command_word(app, argc, argv);
      if (!word.empty()) {
        std::cerr << "arca: error: " << unknown_command(app, word) << std::endl;
        return kExitUsage;
      }
    }
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  // CLI11 holds copies of the values now; other users' `ps` stops showing the secrets.
  for (const auto& w : scrub_argv_secrets(argc, argv)) std::cerr << "arca: warning: " << w << std::endl;
  try {
    int rc = run_selected(app);
    return rc < 0 ? kExitUsage : rc;
  } catch (const Error& e) {
    return report_error(g, e.what(), exit_code_for(e.kind()));
  } catch (const std::exception& e) {
    return report_error(g, e.what(), kExitError);
  }
}
