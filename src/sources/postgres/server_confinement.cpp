#include "sources/postgres/server_confinement.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <map>
#include <sstream>

#include "sources/postgres/cluster_safety.h"
#include "util/error.h"

namespace arca {

const std::vector<std::string>& pg_command_settings() {
  static const std::vector<std::string> names = {"recovery_end_command", "archive_cleanup_command", "archive_command",
                                                 "archive_library", "ssl_passphrase_command"};
  return names;
}

// One `name = value` line of a PostgreSQL configuration file (the '=' is optional, values may
// be quoted with '' or \' inside); false for comments, blank lines and include directives.
static bool parse_conf_line(const std::string& line, std::string& name, std::string& value) {
  size_t i = 0, n = line.size();
  auto skip = [&] {
    while (i < n && std::isspace(uint8_t(line[i]))) i++;
  };
  skip();
  size_t start = i;
  while (i < n && (std::isalnum(uint8_t(line[i])) || line[i] == '_' || line[i] == '.')) i++;
  if (i == start) return false;
  name = line.substr(start, i - start);
  for (char& c : name) c = char(std::tolower(uint8_t(c)));
  skip();
  if (i < n && line[i] == '=') i++;
  skip();
  value.clear();
  if (i < n && line[i] == '\'') {
    for (i++; i < n; i++) {
      if (line[i] == '\\' && i + 1 < n)
        value += line[++i];
      else if (line[i] == '\'' && i + 1 < n && line[i + 1] == '\'')
        value += line[++i];
      else if (line[i] == '\'')
        break;
      else
        value += line[i];
    }
  } else {
    while (i < n && !std::isspace(uint8_t(line[i])) && line[i] != '#') value += line[i++];
  }
  return true;
}

std::vector<NeutralisedSetting> pg_command_settings_found(int dirfd, const std::string& dir) {
  std::map<std::string, std::string> seen;
  for (const char* file : {"postgresql.conf", "postgresql.auto.conf"}) {
    if (faccessat(dirfd, file, F_OK, AT_SYMLINK_NOFOLLOW) != 0) continue;
    std::istringstream in(read_file_beneath(dirfd, file, dir + "/" + file));
    std::string name, value;
    for (std::string line; std::getline(in, line);)
      if (parse_conf_line(line, name, value)) seen[name] = value;  // the last one wins, as in the server
  }
  std::vector<NeutralisedSetting> out;
  for (const auto& s : pg_command_settings())
    if (auto it = seen.find(s); it != seen.end() && !it->second.empty()) out.push_back({s, it->second});
  return out;
}

std::string pg_bare_libraries(const std::string& list) {
  std::string out, item;
  std::istringstream in(list);
  while (std::getline(in, item, ',')) {
    size_t b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    if (b == std::string::npos) continue;
    item = item.substr(b, e - b + 1);
    if (item.size() >= 2 && item.front() == '"' && item.back() == '"') item = item.substr(1, item.size() - 2);
    if (item.empty() || item.find_first_of("/$\"\\") != std::string::npos) continue;
    out += (out.empty() ? "" : ",") + item;
  }
  return out;
}

std::vector<std::string> pg_confining_settings(const PgConfinement& c,
                                               const std::function<std::string(const std::string&)>& current) {
  std::vector<std::string> s;
  // A scratch server never archives. A restored primary (--start) keeps archive_mode as
  // configured: the command settings are emptied in Arca's block of postgresql.auto.conf, so
  // with archive_mode on PostgreSQL keeps every WAL segment in pg_wal until the operator sets
  // archive_command (ALTER SYSTEM + reload, which a command-line setting would override for
  // good); no WAL is lost meanwhile.
  for (const auto& name : pg_command_settings())
    if (c.scratch || name == "recovery_end_command" || name == "archive_cleanup_command") s.push_back(name + "=");
  if (c.scratch) s.push_back("archive_mode=off");
  s.push_back("restore_command=" + c.restore_command);
  // Files the server would write or delete wherever the point says.
  s.push_back("data_directory=" + c.datadir);
  s.push_back("external_pid_file=");
  s.push_back("promote_trigger_file=");
  s.push_back("unix_socket_directories=" + c.socket_dir);
  s.push_back("log_directory=log");
  s.push_back("log_filename=postgresql-%Y-%m-%d_%H%M%S.log");
  s.push_back("hba_file=" + c.datadir + "/pg_hba.conf");
  s.push_back("ident_file=" + c.datadir + "/pg_ident.conf");
  // Code the server would load: only libraries from its own $libdir.
  s.push_back("dynamic_library_path=$libdir");
  for (const char* name : {"shared_preload_libraries", "session_preload_libraries", "local_preload_libraries"})
    s.push_back(std::string(name) + "=" + pg_bare_libraries(current(name)));
  std::string jit = pg_bare_libraries(current("jit_provider"));
  s.push_back("jit_provider=" + (jit.empty() || jit.find(',') != std::string::npos ? std::string("llvmjit") : jit));
  if (c.scratch) {
    s.push_back("listen_addresses=");
    s.push_back("ssl=off");
  }
  return s;
}

void pg_persist_settings(const std::string& datadir, const std::vector<std::string>& settings) {
  static const std::string kEnd = "# End of arca pg restore settings";
  std::string lines;
  for (const auto& s : settings) {
    const size_t eq = s.find('=');
    const std::string name = s.substr(0, eq);
    if (eq == std::string::npos || name == "data_directory" || name == "restore_command") continue;
    std::string quoted = "'";
    for (char ch : s.substr(eq + 1)) quoted += ch == '\'' ? std::string("''") : std::string(1, ch);
    lines += name + " = " + quoted + "'\n";
  }
  UniqueFd dirfd = open_directory(datadir);
  const std::string shown = datadir + "/postgresql.auto.conf";
  std::string conf = read_file_beneath(dirfd.get(), "postgresql.auto.conf", shown);
  const std::string block = "# Settings of the server arca started (pg_ctl start without -o keeps them)\n" + lines;
  // Inside Arca's block, so that the next restore into this directory replaces them too.
  size_t end = conf.rfind(kEnd);
  if (end != std::string::npos && (end == 0 || conf[end - 1] == '\n'))
    conf.insert(end, block);
  else
    conf += (conf.empty() || conf.back() == '\n' ? "" : "\n") + std::string("# Added by arca pg restore\n") + block +
            kEnd + "\n";
  struct stat st;
  if (fstat(dirfd.get(), &st) != 0) throw_errno("stat", datadir, errno);
  ClusterOwner owner{st.st_uid, st.st_gid, ""};
  write_file_beneath(dirfd.get(), "postgresql.auto.conf", conf, shown, geteuid() == 0 ? &owner : nullptr);
}

}  // namespace arca
