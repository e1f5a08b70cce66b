#include "sources/postgres/pg_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <thread>
#include <signal.h>

#include "sources/postgres/server_confinement.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/io.h"
#include "util/job_context.h"
#include "util/subprocess.h"

extern char** environ;

namespace arca {

std::string find_pg_bin(int major, const std::string& explicit_dir) {
  struct stat st;
  auto has = [&](const std::string& dir) { return stat((dir + "/pg_ctl").c_str(), &st) == 0; };
  if (!explicit_dir.empty()) {
    if (!has(explicit_dir)) throw Error(ErrorKind::NotFound, "no pg_ctl in " + explicit_dir + " (--pg-bin)");
    return explicit_dir;
  }
  std::string debian = "/usr/lib/postgresql/" + std::to_string(major) + "/bin";
  if (has(debian)) return debian;
  std::string p = find_program("pg_ctl");
  if (!p.empty()) return p.substr(0, p.rfind('/'));
  throw Error(ErrorKind::NotFound, "PostgreSQL " + std::to_string(major) +
                                       " server programs (pg_ctl, postgres) were not found: install them (Debian: "
                                       "postgresql-" +
                                       std::to_string(major) + ") or pass --pg-bin DIR");
}

std::optional<PgRunningServer> running_pg_server(const std::string& datadir) {
  // postmaster.pid: pid, data directory, start time, port, socket directory, listen address,
  // shared memory key, status (the layout pg_ctl reads, the same since PostgreSQL 10).
  std::ifstream in(datadir + "/postmaster.pid");
  if (!in) return std::nullopt;
  std::vector<std::string> lines;
  for (std::string l; lines.size() < 8 && std::getline(in, l);) {
    while (!l.empty() && (l.back() == ' ' || l.back() == '\r')) l.pop_back();
    lines.push_back(l);
  }
  PgRunningServer r;
  r.pid = lines.empty() ? 0 : std::atol(lines[0].c_str());
  if (r.pid <= 0 || (kill(pid_t(r.pid), 0) != 0 && errno != EPERM)) return std::nullopt;
  lines.resize(8);
  r.port = std::atoi(lines[3].c_str());
  r.socket_dir = lines[4];
  r.listen = lines[5];
  r.status = lines[7];
  return r;
}

PgServer::PgServer(std::string bin_dir, std::string datadir)
    : bin_(std::move(bin_dir)), datadir_(std::move(datadir)), log_(datadir_ + "/arca-server.log") {}

PgServer::~PgServer() {
  try {
    stop();
  } catch (...) {}
  std::error_code ec;
  if (!released_ && !run_dir_.empty()) std::filesystem::remove_all(run_dir_, ec);
}

std::vector<std::string> PgServer::as_owner(std::vector<std::string> argv) const {
  if (geteuid() != 0) return argv;
  struct stat st;
  if (stat(datadir_.c_str(), &st) != 0) throw_errno("stat", datadir_, errno);
  if (st.st_uid == 0)
    throw Error(ErrorKind::Usage, "the data directory " + datadir_ +
                                      " belongs to root; PostgreSQL cannot run as root (restore as the server's user "
                                      "or chown the directory)");
  passwd* pw = getpwuid(st.st_uid);
  if (!pw)
    throw Error(ErrorKind::Usage, "the data directory " + datadir_ + " belongs to uid " + std::to_string(st.st_uid) +
                                      ", which has no user name here; restore with --owner USER");
  std::vector<std::string> out = {"runuser", "-u", pw->pw_name, "--"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

std::string PgServer::log_tail(size_t lines) const {
  std::ifstream in(log_);
  std::deque<std::string> tail;
  for (std::string l; std::getline(in, l);) {
    tail.push_back(l);
    if (tail.size() > lines) tail.pop_front();
  }
  std::string out;
  for (const auto& l : tail) out += "    " + l + "\n";
  return out;
}

std::string PgServer::config_value(const std::string& name) const {
  // `postgres -C` reads the configuration files and prints one setting; it starts nothing. If it
  // fails (no postgresql.conf), the start fails too and says why: no library is the safe value.
  auto [rc, out] = run_program(as_owner({bin_ + "/postgres", "-D", datadir_, "-C", name}));
  if (rc != 0) return "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

static constexpr const char* kRunMarker = "arca-run-dir";  // names the server's data directory

static std::string tmp_dir() {
  const char* tmp = std::getenv("TMPDIR");
  return tmp && *tmp ? tmp : "/tmp";
}

void PgServer::make_run_dir(bool scratch) {
  std::string parent = tmp_dir();
  // A Unix socket path holds at most 107 bytes: "<run dir>/.s.PGSQL.<port>".
  std::string beside = std::filesystem::path(datadir_).parent_path().string();
  if (scratch && beside.size() + std::strlen("/arca-pg-XXXXXX/.s.PGSQL.65535") <= 107) parent = beside;
  std::string tmpl = parent + "/arca-pg-XXXXXX";
  if (!mkdtemp(tmpl.data())) throw_errno("create a private directory in", parent, errno);
  run_dir_ = tmpl;
  {
    const std::string marker = run_dir_ + "/" + kRunMarker;
    UniqueFd fd(open(marker.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) throw_errno("create", marker, errno);
    const std::string text = datadir_ + "\n";
    write_all(fd.get(), ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size()), marker);
  }
  if (geteuid() == 0) {
    struct stat st;
    if (stat(datadir_.c_str(), &st) != 0) throw_errno("stat", datadir_, errno);
    if (chown(run_dir_.c_str(), st.st_uid, st.st_gid) != 0) throw_errno("chown", run_dir_, errno);
  }
}

std::vector<std::string> remove_stale_pg_run_dirs(const std::string& killed_root) {
  namespace fs = std::filesystem;
  std::vector<std::string> removed;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(tmp_dir(), ec)) {
    const std::string dir = e.path().string();
    if (e.path().filename().string().rfind("arca-pg-", 0) != 0 || !e.is_directory(ec) || e.is_symlink(ec)) continue;
    const std::string marker = dir + "/" + kRunMarker;
    UniqueFd fd(open(marker.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    struct stat st;
    if (!fd || fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) continue;  // not Arca's (or not readable)
    char buf[4096];
    const ssize_t n = read(fd.get(), buf, sizeof buf);
    std::string datadir(buf, n > 0 ? size_t(n) : 0);
    if (datadir.empty() || datadir.back() != '\n') continue;  // still being written
    datadir.pop_back();
    const std::string data = fs::weakly_canonical(datadir, ec).string();
    const bool killed = !killed_root.empty() && (data == killed_root || data.rfind(killed_root + "/", 0) == 0);
    if (!killed) {
      if (running_pg_server(datadir)) continue;
      if (time(nullptr) - st.st_mtime < 60) continue;
      std::ifstream conf(datadir + "/postgresql.auto.conf");
      std::string text((std::istreambuf_iterator<char>(conf)), std::istreambuf_iterator<char>());
      if (text.find("unix_socket_directories = '" + dir + "'") != std::string::npos) {
        unlink((dir + "/credentials").c_str());  // its server is stopped: nothing reads them now
        continue;
      }
    }
    fs::remove_all(dir, ec);
    if (!ec) removed.push_back(dir);
  }
  return removed;
}

// The repository's secrets restore_command needs, as NAME=VALUE lines: the password unless the
// command names a key or password file, the object store's AWS_* for an S3 repository.
static std::string restore_credentials(const std::string& restore_command) {
  bool password = restore_command.find(" --key-file ") == std::string::npos &&
                  restore_command.find(" --password-file ") == std::string::npos;
  bool s3 = restore_command.find(" --repo 's3:") != std::string::npos;
  std::string out;
  for (char** e = environ; *e; e++) {
    std::string_view entry(*e);
    if ((password && entry.rfind("ARCA_PASSWORD=", 0) == 0) || (s3 && entry.rfind("AWS_", 0) == 0)) {
      if (entry.find('\n') != std::string_view::npos) continue;
      out += std::string(entry) + "\n";
    }
  }
  return out;
}

void PgServer::start(int port, const std::vector<std::string>& settings, int timeout_s,
                     const std::string& restore_command, bool scratch) {
  make_run_dir(scratch);
  std::string command = restore_command;
  if (std::string creds = restore_credentials(restore_command); !command.empty() && !creds.empty()) {
    // Readable by the server's user only, as is the data directory (see docs/security.md).
    std::string file = run_dir_ + "/credentials";
    UniqueFd fd(open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) throw_errno("create", file, errno);
    struct stat st;
    if (geteuid() == 0 && (stat(datadir_.c_str(), &st) != 0 || fchown(fd.get(), st.st_uid, st.st_gid) != 0))
      throw_errno("chown", file, errno);
    write_all(fd.get(), ByteView(reinterpret_cast<const uint8_t*>(creds.data()), creds.size()), file);
    std::string q;
    for (char c : shell_quote(file)) q += c == '%' ? "%%" : std::string(1, c);
    command += " --credentials-file " + q;
  }
  PgConfinement c{datadir_, run_dir_, command, scratch};
  std::vector<std::string> all = pg_confining_settings(c, [this](const std::string& n) { return config_value(n); });
  all.insert(all.end(), settings.begin(), settings.end());
  if (!scratch) {
    // A kept server (pg restore --start) may be restarted with pg_ctl, without Arca's options.
    std::vector<std::string> kept = all;
    if (port) kept.push_back("port=" + std::to_string(port));
    pg_persist_settings(datadir_, kept);
  }
  std::string opts = port ? "-p " + std::to_string(port) : "";
  for (const auto& s : all) opts += " -c " + shell_quote(s);  // pg_ctl runs the server through a shell
  // The log file is created by the server's user (pg_ctl opens it). No secret of ours reaches
  // the server's environment (docs/security.md, "PostgreSQL restores").
  port_ = port;
  std::pair<int, std::string> started;
  try {
    started = run_program(as_owner({bin_ + "/pg_ctl", "-D", datadir_, "-l", log_, "-w", "-t", std::to_string(timeout_s),
                                    "-o", opts, "start"}),
                          {}, ChildEnv::NoSecrets, cancel_, "starting PostgreSQL");
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::Cancelled) throw;
    running_ = true;  // pg_ctl was killed; the server it launched may be up or starting
    try {
      stop();
    } catch (...) {}
    throw;
  }
  auto& [rc, out] = started;
  if (rc != 0) fail("did not start", out);
  running_ = true;
}

void PgServer::drop_credentials() {
  if (!run_dir_.empty()) unlink((run_dir_ + "/credentials").c_str());
}

void PgServer::fail(const std::string& what, const std::string& output) {
  std::string tail = log_tail(15);
  std::string hint;
  if (tail.find("recovery ended before configured recovery target was reached") != std::string::npos)
    hint =
        "\n  the archive does not hold WAL up to the recovery target: pick an earlier target, or check "
        "'arca pg check' for gaps";
  else if (tail.find("could not find redo location") != std::string::npos ||
           tail.find("could not locate required checkpoint") != std::string::npos)
    hint = "\n  WAL the backup needs is missing from the archive";
  else if (tail.find("Address already in use") != std::string::npos)
    hint = "\n  the port is taken: choose another with --port";
  // A server still running (pg_ctl timed out) is stopped so nothing is left behind.
  running_ = true;
  try {
    stop();
  } catch (...) {}
  throw Error(ErrorKind::Generic, "PostgreSQL " + what + " on the restored data directory " + datadir_ + ":" +
                                      (output.empty() ? "" : "\n    " + output) + "\n  end of the server log (" + log_ +
                                      "):\n" + tail + hint);
}

// The cluster state pg_control records on disk (DBState after system_identifier, pg_control_version
// and catalog_version_no: the same in every supported version), or -1 if it cannot be read.
static int control_file_state(const std::string& datadir) {
  std::ifstream in(datadir + "/global/pg_control", std::ios::binary);
  char head[20];
  if (!in.read(head, sizeof head)) return -1;
  int32_t state;
  std::memcpy(&state, head + 16, sizeof state);
  return state;
}

void PgServer::wait_promoted(int timeout_s) {
  // postmaster.pid's 8th line is the server's state: "ready" also while it serves read-only
  // queries in hot standby. recovery.signal goes before the end-of-recovery work, so neither
  // says the server is a primary. pg_control says DB_IN_PRODUCTION (6) only once recovery is
  // over: the startup process writes it after it lets sessions write, so from then on
  // pg_is_in_recovery() is false. It needs no connection (the restored cluster's pg_hba.conf
  // may require passwords).
  constexpr int kInProduction = 6;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (true) {
    std::ifstream in(datadir_ + "/postmaster.pid");
    std::string line, status;
    long pid = 0;
    for (int i = 0; std::getline(in, line); i++) {
      if (i == 0) pid = std::atol(line.c_str());
      if (i == 7) status = line;
    }
    while (!status.empty() && status.back() == ' ') status.pop_back();
    if (status == "ready" && control_file_state(datadir_) == kInProduction) return;
    if (pid <= 0 || kill(pid_t(pid), 0) != 0) {
      running_ = false;
      fail("stopped during recovery", "");
    }
    if (std::chrono::steady_clock::now() > deadline)
      fail("did not finish recovery within " + std::to_string(timeout_s) + " s", "");
    if (cancel_ && cancel_->cancelled()) {
      try {
        stop();
      } catch (...) {}
      cancel_->check("PostgreSQL recovery");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void PgServer::stop() {
  if (!running_) return;
  running_ = false;
  // A cancelled job's server stops at once: a fast shutdown's checkpoint can take seconds after
  // recovery, and what a cancelled verify or restore leaves is thrown away or restored again.
  const char* mode = cancel_ && cancel_->cancelled() ? "immediate" : "fast";
  auto [rc, out] = run_program(as_owner({bin_ + "/pg_ctl", "-D", datadir_, "-m", mode, "-w", "-t", "120", "stop"}));
  if (rc != 0 && out.find("is the server running") == std::string::npos)
    throw Error(ErrorKind::Generic, "stopping the restored server in " + datadir_ + " failed: " + out);
}

}  // namespace arca
