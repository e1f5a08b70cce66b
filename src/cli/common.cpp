#include "cli/common.h"

#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>

#include "ops/error_table.h"
#include "storage/backend.h"
#include "util/error.h"
#include "util/name_format.h"
#include "util/subprocess.h"

namespace arca {

void add_global_options(CLI::App& cmd, GlobalOptions& g) {
  cmd.add_option("-r,--repo", g.repo, "Repository location (default: $ARCA_REPOSITORY)");
  cmd.add_option("--password-file", g.password_file,
                 "Read the repository password from this file (default: $ARCA_PASSWORD_FILE, then $ARCA_PASSWORD, "
                 "then a prompt)");
  cmd.add_option("--password-command", g.password_command,
                 "Run this shell command and read the password from the first line of its output, e.g. 'pass show "
                 "arca' ($ARCA_PASSWORD_COMMAND)");
  cmd.add_option("--key-file", g.key_file,
                 "Open the repository with a key file instead of a password ($ARCA_KEY_FILE)");
  cmd.add_flag("--json", g.json, "Machine-readable JSON output on stdout");
  cmd.add_flag("-q,--quiet", g.quiet, "Print only errors (and the warnings that made a result partial)");
  cmd.add_flag("--no-progress", g.no_progress, "Do not show progress on the terminal");
  cmd.add_option("-o,--option", g.options,
                 "Backend setting KEY=VALUE, repeatable (e.g. -o s3.region=eu-west-1; "
                 "list: arca help-options)")
      ->allow_extra_args(false);
}

std::unique_ptr<Backend> open_repo_backend(const GlobalOptions& g, const BackendOptions& extra) {
  BackendOptions opts = extra;
  for (const auto& o : g.options) {
    auto eq = o.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error(ErrorKind::Usage, "option '" + o + "': expected KEY=VALUE (see arca help-options)");
    opts[o.substr(0, eq)] = o.substr(eq + 1);
  }
  return open_backend(repo_location(g), opts);
}

std::string repo_location(const GlobalOptions& g) {
  if (!g.repo.empty()) return g.repo;
  if (const char* e = std::getenv("ARCA_REPOSITORY")) return e;
  throw Error(ErrorKind::Usage, "no repository given: use --repo LOCATION or set ARCA_REPOSITORY");
}

namespace {

// The store, refused with a clear message where it holds no repository (before a password is
// asked for).
std::unique_ptr<Backend> existing_repo_backend(const GlobalOptions& g) {
  auto backend = open_repo_backend(g);
  if (!backend->exists()) {
    std::string where = repo_location(g);
    bool s3 = where.rfind("s3:", 0) == 0;
    struct stat st;
    if (!s3 && ::stat(where.c_str(), &st) == 0 && !S_ISDIR(st.st_mode))
      throw Error(ErrorKind::NotFound, "repository " + where +
                                           " is not a directory (it is a file): give the directory "
                                           "'arca init' created");
    throw Error(ErrorKind::NotFound,
                "repository " + backend->location() + " does not exist (create it with 'arca init'" +
                    (s3 ? "; for an S3 bucket that does not exist yet, add --create-bucket)" : ")"));
  }
  return backend;
}

std::unique_ptr<Repository> open_with(std::unique_ptr<Backend> backend, const Credentials& creds) {
  auto repo = Repository::open(std::move(backend), creds);
  repo->set_warning_handler([](const std::string& m) { std::cerr << "warning: " << m << std::endl; });
  return repo;
}

}  // namespace

std::unique_ptr<Repository> open_repository(const GlobalOptions& g) {
  auto backend = existing_repo_backend(g);
  return open_with(std::move(backend), get_credentials(g));
}

std::unique_ptr<Repository> open_repository(const GlobalOptions& g, const Credentials& creds) {
  return open_with(existing_repo_backend(g), creds);
}

CLI::Option* add_tags_option(CLI::App& cmd, const std::string& name, std::vector<std::string>& tags,
                             const std::string& help) {
  auto split = [&tags](const std::vector<std::string>& given) {
    try {
      tags = split_tags(given);
    } catch (const Error& e) {
      throw CLI::ValidationError(e.what());  // a usage error, reported like any other bad option
    }
  };
  return cmd.add_option_function<std::vector<std::string>>(name, split, help)->allow_extra_args(false);
}

CLI::Option* host_option(CLI::Option* opt) {
  return opt->transform(
      [](std::string h) {
        try {
          return normal_host(h);
        } catch (const Error& e) {
          throw CLI::ValidationError(e.what());
        }
      },
      "");
}

void add_snapshot_filter_options(CLI::App& cmd, SnapshotFilter& f) {
  host_option(cmd.add_option("--host", f.hosts, "Only recovery points of this host (repeatable: any of them)"))
      ->allow_extra_args(false);
  auto paths = [&f](const std::vector<std::string>& given) {
    try {
      f.paths = absolute_paths(given);
    } catch (const Error& e) {
      throw CLI::ValidationError(e.what());
    }
  };
  cmd.add_option_function<std::vector<std::string>>(
         "--path", paths,
         "Only recovery points that backed up this path (relative paths are made "
         "absolute as backup does; repeatable: all of them)")
      ->allow_extra_args(false);
  add_tags_option(cmd, "--tag", f.tags, "Only recovery points with this tag (a,b or repeated: all of them)");
}

namespace {
std::map<CLI::App*, CommandFn>& commands() {
  static std::map<CLI::App*, CommandFn> m;
  return m;
}
}  // namespace

void set_command(CLI::App& cmd, CommandFn fn) { commands()[&cmd] = std::move(fn); }

int run_selected(CLI::App& app) {
  // The deepest selected command runs: `arca server check-config` is not `arca server`.
  for (CLI::App* sub : app.get_subcommands()) {
    int rc = run_selected(*sub);
    if (rc >= 0) return rc;
    auto it = commands().find(sub);
    if (it != commands().end()) return it->second();
  }
  return -1;
}

}  // namespace arca
