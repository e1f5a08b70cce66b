#include "cli/pg_common.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "util/subprocess.h"

namespace arca {

void add_conn_option(CLI::App& cmd, std::string& conninfo) {
  cmd.add_option("-d,--conn", conninfo,
                 "PostgreSQL connection: a libpq connection string ('host=db1 port=5432 user=backup') or URI "
                 "(postgresql://backup@db1:5432); unset parts come from PGHOST, PGPORT, PGUSER, PGPASSWORD, ~/.pgpass");
}

static std::string self_exe() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "arca" : p.string();
}

std::string wal_fetch_command(const GlobalOptions& g, const std::string& system_id, std::string& note) {
  // Each argument is quoted for the shell PostgreSQL runs the command with, and its '%' doubled
  // (PostgreSQL replaces %f, %p and %r). Paths are made absolute: the command runs in the data
  // directory.
  auto arg = [](const std::string& s) {
    std::string q = shell_quote(s), out;
    for (char c : q) out += c == '%' ? "%%" : std::string(1, c);
    return out;
  };
  auto abs = [](const std::string& f) { return std::filesystem::absolute(f).string(); };
  std::string repo = repo_location(g);
  if (repo.rfind("s3:", 0) != 0) repo = abs(repo);
  std::string cmd = arg(self_exe()) + " pg wal-fetch --repo " + arg(repo);
  std::string key_file = g.key_file, pw_file = g.password_file;
  if (key_file.empty())
    if (const char* e = std::getenv("ARCA_KEY_FILE")) key_file = e;
  if (pw_file.empty())
    if (const char* e = std::getenv("ARCA_PASSWORD_FILE")) pw_file = e;
  if (!key_file.empty()) cmd += " --key-file " + arg(abs(key_file));
  else if (!pw_file.empty()) cmd += " --password-file " + arg(abs(pw_file));
  else if (std::getenv("ARCA_PASSWORD"))
    note = "the restore_command reads the password from ARCA_PASSWORD: a server started later needs it in its "
           "environment (or restore with --password-file)";
  else
    return "";
  for (const auto& o : g.options) cmd += " -o " + arg(o);
  if (!system_id.empty()) cmd += " --system-id " + arg(system_id);
  return cmd + " \"%f\" \"%p\"";
}

}  // namespace arca
