// Running redis-server on a restored directory (`arca redis restore --start`) or as a scratch
// server for verification: started daemonized with its own pid and log file, waited for until
// it has loaded its data set, stopped by pid.
#pragma once
#include <string>
#include <vector>

#include "sources/redis/redis_conn.h"

namespace arca {

class CancelToken;

// `explicit_path` if given, else redis-server from PATH; throws Error(NotFound).
std::string find_redis_server(const std::string& explicit_path);

class RedisServer {
 public:
  RedisServer(std::string binary, std::string dir, int port);
  ~RedisServer();  // stops the server unless release()d
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Starts on `dir`/dump.rdb (or the AOF, when `extra` turns it on) and waits up to
  // `timeout_s` until the data set is loaded; throws Error with the end of the log otherwise.
  // `settings` (name, value) reach the server as configuration on its standard input, never in
  // its argv, where other users could read a requirepass (docs/security.md).
  void start(const std::vector<std::string>& extra, int timeout_s,
             const std::vector<std::pair<std::string, std::string>>& settings = {});
  void stop();
  void release() { pid_ = -1; }
  // The wait in start() looks at `cancel` every 50 ms: a cancel stops the server and throws
  // Error(Cancelled).
  void set_cancel(const CancelToken* cancel) { cancel_ = cancel; }
  // The password the server will require (its requirepass), for the readiness checks.
  void set_password(std::string pw) { password_ = std::move(pw); }
  RedisUrl url() const;
  int pid() const { return pid_; }
  std::string log_file() const { return dir_ + "/redis.log"; }

 private:
  [[noreturn]] void fail(const std::string& what);
  std::string binary_, dir_;
  int port_;
  int pid_ = -1;
  std::string password_;
  const CancelToken* cancel_ = nullptr;
};

}  // namespace arca
