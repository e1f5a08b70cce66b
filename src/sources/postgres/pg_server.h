// Running a PostgreSQL server on a restored data directory: finding the binaries of the right
// major version, running them as the directory's owner (the server refuses to run as root),
// starting, waiting until it accepts connections, stopping.
#pragma once
#include <string>
#include <vector>

namespace arca {

// The directory with pg_ctl and postgres for `major` (e.g. 15): `explicit_dir` if given, else
// /usr/lib/postgresql/<major>/bin, else pg_ctl's directory in PATH. Throws Error(NotFound).
std::string find_pg_bin(int major, const std::string& explicit_dir);

class PgServer {
 public:
  PgServer(std::string bin_dir, std::string datadir);
  // Starts (on `port`, 0 = as configured) with `settings` (-c name=value each) and waits up to `timeout_s` until the server
  // accepts connections; throws Error with the end of the server log if it does not.
  void start(int port, const std::vector<std::string>& settings, int timeout_s);
  // Waits until recovery has ended and the server runs as a primary; throws Error with the end
  // of the log if it stops or does not get there within `timeout_s`.
  void wait_promoted(int timeout_s);
  void stop();  // fast shutdown; no-op if not running
  bool running() const { return running_; }
  void release() { running_ = false; }  // leave it running when this object goes
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
  std::string bin_, datadir_, log_;
  int port_ = 0;
  bool running_ = false;
};

}  // namespace arca
