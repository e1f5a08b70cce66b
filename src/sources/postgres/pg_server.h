// Running a PostgreSQL server on a restored data directory: finding the binaries of the right
// major version, running them as the directory's owner (the server refuses to run as root),
// starting, waiting until it accepts connections, stopping.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace arca {

class CancelToken;

// The directory with pg_ctl and postgres for `major` (e.g. 15): `explicit_dir` if given, else
// /usr/lib/postgresql/<major>/bin, else pg_ctl's directory in PATH. Throws Error(NotFound).
std::string find_pg_bin(int major, const std::string& explicit_dir);

// What postmaster.pid says about the server running on a data directory (any server, not only
// one Arca started): where to connect. nullopt when none runs there (no file, or its process is
// gone).
struct PgRunningServer {
  long pid = 0;
  int port = 0;
  std::string socket_dir;  // first unix_socket_directories entry ("" = none)
  std::string listen;      // first listen_addresses entry ("" = none)
  std::string status;      // "starting", "ready", "standby", "stopping"
};
std::optional<PgRunningServer> running_pg_server(const std::string& datadir);

// Arca's private run directories ($TMPDIR/arca-pg-XXXXXX, see PgServer::run_dir) whose server is
// gone (a kill -9 of the arca that started it): each holds a marker naming its data directory; one
// is stale when no postmaster runs on that directory and the marker is over a minute old (a server
// may be starting), or at once when its data directory is below `killed_root` (a killed drill's
// scratch whose servers the caller stopped; "" = none). A stopped restored server whose
// postgresql.auto.conf names the directory as its socket directory (pg_ctl start needs it) keeps
// it, without the credentials file. Directories without the marker are never touched. Returns
// what was removed.
std::vector<std::string> remove_stale_pg_run_dirs(const std::string& killed_root);

class PgServer {
 public:
  PgServer(std::string bin_dir, std::string datadir);
  // Starts (on `port`, 0 = as configured) and waits up to `timeout_s` until the server accepts
  // connections; throws Error with the end of the server log if it does not. The recovery
  // point's command, library and path settings are overridden (server_confinement.h), then
  // `settings` (-c name=value each) apply; `restore_command` is Arca's own ("" = none), and
  // `scratch` a throwaway server (no TCP, no SSL). The server's environment holds no secret: the
  // repository's credentials reach restore_command in a 0600 file in the private run directory.
  // A scratch server's run directory goes beside its data directory (in the scratch directory,
  // removed with it) when a socket path there fits; a kept server's port, socket directory and
  // confining settings are also written to its postgresql.auto.conf (pg_persist_settings).
  void start(int port, const std::vector<std::string>& settings, int timeout_s, const std::string& restore_command,
             bool scratch);
  // Waits until recovery has ended and the server runs as a primary; throws Error with the end
  // of the log if it stops or does not get there within `timeout_s`.
  void wait_promoted(int timeout_s);
  // Waits in start() and wait_promoted() look at `cancel` every 100 ms: a cancel stops the
  // server (fast shutdown) and throws Error(Cancelled).
  void set_cancel(const CancelToken* cancel) { cancel_ = cancel; }
  void stop();  // fast shutdown (immediate once cancelled, see set_cancel); no-op if not running
  bool running() const { return running_; }
  void release() {
    running_ = false, released_ = true;
  }  // leave it running (and its run directory) when this object goes
  // Removes the credentials file (recovery is over: restore_command will not run again).
  void drop_credentials();
  // Arca's private directory with the server's socket (and the credentials file during recovery).
  const std::string& run_dir() const { return run_dir_; }
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  // argv prefixed to run a PostgreSQL program as the data directory's owner when we are root.
  std::vector<std::string> as_owner(std::vector<std::string> argv) const;
  const std::string& bin() const { return bin_; }
  const std::string& log_file() const { return log_; }
  int port() const { return port_; }
  std::string log_tail(size_t lines) const;

 private:
  [[noreturn]] void fail(const std::string& what, const std::string& output);
  std::string config_value(const std::string& name) const;
  void make_run_dir(bool scratch);
  std::string bin_, datadir_, log_, run_dir_;
  int port_ = 0;
  bool running_ = false, released_ = false;
  const CancelToken* cancel_ = nullptr;
};

}  // namespace arca
