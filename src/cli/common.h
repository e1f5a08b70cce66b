// What every command shares: global options, opening the repository, output helpers.
#pragma once
#include <memory>
#include <string>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "repo/repository.h"
#include "repo/snapshot_filter.h"

namespace arca {

struct GlobalOptions {
  std::string repo;
  std::string password_file;
  std::string password_command;  // run by /bin/sh; the password is its first line of output
  std::string key_file;
  bool json = false;
  bool quiet = false;
  bool no_progress = false;
  std::vector<std::string> options;  // -o key=value (backend settings)
};

// Adds --repo, --password-file, --key-file, --json, --quiet, --no-progress to a subcommand.
void add_global_options(CLI::App& cmd, GlobalOptions& g);
// Password/key file from flags, ARCA_* variables or a terminal prompt (twice if `confirm`).
Credentials get_credentials(const GlobalOptions& g, bool confirm = false, const std::string& prompt = "");
std::string prompt_secret(const std::string& prompt);
std::string read_password_file(const std::string& path);  // first line, without the newline
std::unique_ptr<Repository> open_repository(const GlobalOptions& g);
// The same with credentials the caller already has (a second repository of one command).
std::unique_ptr<Repository> open_repository(const GlobalOptions& g, const Credentials& creds);
// The backend for --repo with the -o options (and `extra` ones added by a command).
std::unique_ptr<Backend> open_repo_backend(const GlobalOptions& g, const BackendOptions& extra = {});
std::string repo_location(const GlobalOptions& g);

bool show_progress(const GlobalOptions& g);
void print_json(const nlohmann::json& j);
// After a command saved a recovery point: its warnings on stderr (unless --quiet) and, with
// --json, the snapshot (plus `extra` fields) on stdout. Returns true if the caller should print
// its own human-readable summary.
bool report_saved_snapshot(const GlobalOptions& g, const Snapshot& snap,
                           const nlohmann::json& extra = nlohmann::json::object());
std::string human_bytes(uint64_t n);
std::string human_duration(double seconds);
std::string short_time(const std::string& rfc3339);  // "2026-11-25 15:04:05"
// "1 file", "2 files": a count with its noun in the right number.
std::string counted(uint64_t n, const char* one, const char* many);
// Left-aligned columns; numeric columns right-aligned when `right[i]`. Widths are terminal
// columns (UTF-8 characters), and the rule under the header is as wide as the columns.
void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                 const std::vector<bool>& right = {});

// A --tag style option, repeatable: "a,b" is two tags (restic); an empty tag is a usage error.
CLI::Option* add_tags_option(CLI::App& cmd, const std::string& name, std::vector<std::string>& tags,
                             const std::string& help);
// Makes a --host option trim its value and refuse a whitespace-only one (a usage error).
CLI::Option* host_option(CLI::Option* opt);
// restic's selectors --host, --path (made absolute like backup's paths) and --tag: they choose
// what 'latest' means and which recovery points a command considers.
void add_snapshot_filter_options(CLI::App& cmd, SnapshotFilter& f);

// A subcommand's body; returns the exit code.
using CommandFn = std::function<int()>;
void set_command(CLI::App& cmd, CommandFn fn);
int run_selected(CLI::App& app);

}  // namespace arca
