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
#include "util/name_format.h"
#include "storage/backend.h"
#include "util/error.h"
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

std::string read_password_file(const std::string& path) {
  std::ifstream f(path);
  if (!f && errno == ENOENT) throw Error(ErrorKind::NotFound, "password file " + path + " does not exist");
  if (!f) throw Error(ErrorKind::Usage, "cannot read password file " + path + ": " + std::strerror(errno));
  std::string line;
  std::getline(f, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  return line;
}

std::string prompt_secret(const std::string& prompt) {
  FILE* tty = fopen("/dev/tty", "r+");
  if (!tty)
    throw Error(ErrorKind::Usage,
                "no password given and no terminal to ask on: use --password-file, --password-command or --key-file, "
                "or set ARCA_PASSWORD_FILE, ARCA_PASSWORD or ARCA_PASSWORD_COMMAND");
  fprintf(tty, "%s", prompt.c_str());
  fflush(tty);
  termios old{}, quiet{};
  int fd = fileno(tty);
  bool have_term = tcgetattr(fd, &old) == 0;
  if (have_term) {
    quiet = old;
    quiet.c_lflag &= ~tcflag_t(ECHO);
    tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  char buf[1024];
  bool ok = fgets(buf, sizeof buf, tty) != nullptr;
  if (have_term) tcsetattr(fd, TCSAFLUSH, &old);
  fprintf(tty, "\n");
  fclose(tty);
  if (!ok) throw Error(ErrorKind::Usage, "no password entered");
  std::string s = buf;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// The password from a command's output (restic's --password-command): the command line goes to
// /bin/sh as given, and the password only through the pipe, never in any argv or environment.
static std::string run_password_command(const std::string& command) {
  // The operator's own command may need cloud or vault tokens, never Arca's own credentials.
  Subprocess p({"/bin/sh", "-c", command}, Subprocess::Stdout::Pipe, "", Subprocess::Stdin::Null, {},
               ChildEnv::OperatorCommand);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(p.stdout_fd(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (out.size() < 65536) out.append(buf, size_t(n));
  }
  int rc = p.wait();
  if (rc != 0)
    throw Error(ErrorKind::Auth,
                "the password command '" + command + "' failed (exit " + std::to_string(rc) + "): " + p.stderr_text());
  std::string line = out.substr(0, out.find('\n'));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

Credentials get_credentials(const GlobalOptions& g, bool confirm, const std::string& prompt) {
  Credentials c;
  // Two ways of giving the secret on one command line are a mistake: say so, rather than use one
  // and report the other's repository as a wrong password.
  int given = !g.key_file.empty() + !g.password_file.empty() + !g.password_command.empty();
  if (given > 1) throw Error(ErrorKind::Usage, "give only one of --key-file, --password-file and --password-command");
  if (!g.password_command.empty()) {
    c.passphrase = run_password_command(g.password_command);
    if (c.passphrase->empty()) throw Error(ErrorKind::Usage, "the password command printed an empty password");
    return c;
  }
  std::string key_file = g.key_file;
  if (key_file.empty())
    if (const char* e = std::getenv("ARCA_KEY_FILE")) key_file = e;
  if (!key_file.empty()) {
    c.key_file = key_file;
    return c;
  }
  std::string pw_file = g.password_file;
  if (pw_file.empty())
    if (const char* e = std::getenv("ARCA_PASSWORD_FILE")) pw_file = e;
  if (!pw_file.empty()) {
    c.passphrase = read_password_file(pw_file);
  } else if (const char* e = std::getenv("ARCA_PASSWORD")) {
    c.passphrase = e;
  } else if (const char* e = std::getenv("ARCA_PASSWORD_COMMAND"); e && *e) {
    c.passphrase = run_password_command(e);
  } else {
    c.passphrase = prompt_secret(prompt.empty() ? "Repository password: " : prompt);
    if (confirm && prompt_secret("Repeat the password: ") != *c.passphrase)
      throw Error(ErrorKind::Usage, "the passwords do not match");
  }
  if (c.passphrase->empty()) throw Error(ErrorKind::Usage, "the password is empty");
  return c;
}

std::unique_ptr<Repository> open_repository(const GlobalOptions& g) {
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
  auto repo = Repository::open(std::move(backend), get_credentials(g));
  repo->set_warning_handler([](const std::string& m) { std::cerr << "warning: " << m << std::endl; });
  return repo;
}

bool show_progress(const GlobalOptions& g) { return !g.json && !g.quiet && !g.no_progress && isatty(2); }

void print_json(const nlohmann::json& j) {
  std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
}

bool report_saved_snapshot(const GlobalOptions& g, const Snapshot& snap, const nlohmann::json& extra) {
  if (!g.quiet)
    for (const auto& w : snap.warnings) std::cerr << "warning: " << w.path << ": " << w.message << "\n";
  if (g.json) {
    nlohmann::json j = snap.to_json();
    j["short_id"] = snap.id.short_hex();
    for (const auto& [k, v] : extra.items()) j[k] = v;
    print_json(j);
    return false;
  }
  return !g.quiet;
}

std::string human_bytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = double(n);
  int u = 0;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    u++;
  }
  char buf[32];
  if (u == 0)
    snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  else
    snprintf(buf, sizeof buf, "%.2f %s", v, units[u]);
  return buf;
}

std::string human_duration(double s) {
  char buf[32];
  long t = long(s + 0.5);
  if (s < 60)
    snprintf(buf, sizeof buf, "%.2fs", s);
  else if (t < 3600)
    snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  else
    snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  return buf;
}

std::string short_time(const std::string& t) {
  if (t.size() < 19) return t;
  std::string s = t.substr(0, 19);
  s[10] = ' ';
  return s;
}

std::string counted(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                 const std::vector<bool>& right) {
  std::vector<size_t> w(header.size());
  for (size_t i = 0; i < header.size(); i++) w[i] = display_width(header[i]);
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size() && i < w.size(); i++) w[i] = std::max(w[i], display_width(r[i]));
  auto line = [&](const std::vector<std::string>& r) {
    std::string out;
    for (size_t i = 0; i < r.size(); i++) {
      bool rj = i < right.size() && right[i];
      std::string pad(w[i] - std::min(w[i], display_width(r[i])), ' ');
      out += rj ? pad + r[i] : r[i] + (i + 1 < r.size() ? pad : "");
      if (i + 1 < r.size()) out += "  ";
    }
    std::cout << out << "\n";
  };
  line(header);
  size_t total = 0;
  for (auto x : w) total += x + 2;
  std::cout << std::string(total > 2 ? total - 2 : 0, '-') << "\n";
  for (const auto& r : rows) line(r);
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
  for (CLI::App* sub : app.get_subcommands()) {
    auto it = commands().find(sub);
    if (it != commands().end()) return it->second();
    int rc = run_selected(*sub);
    if (rc >= 0) return rc;
  }
  return -1;
}

}  // namespace arca
