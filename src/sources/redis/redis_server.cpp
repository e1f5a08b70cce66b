#include "sources/redis/redis_server.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <thread>

#include "util/error.h"
#include "util/io.h"
#include "util/job_context.h"
#include "util/subprocess.h"

namespace arca {

std::string find_redis_server(const std::string& explicit_path) {
  std::string p = find_program(explicit_path.empty() ? "redis-server" : explicit_path);
  if (p.empty())
    throw Error(
        ErrorKind::NotFound,
        "redis-server not found" +
            (explicit_path.empty() ? std::string(" in PATH: install it (Debian: redis-server) or give --redis-server")
                                   : ": " + explicit_path));
  return p;
}

RedisServer::RedisServer(std::string binary, std::string dir, int port)
    : binary_(std::move(binary)), dir_(std::move(dir)), port_(port) {}

RedisServer::~RedisServer() {
  try {
    stop();
  } catch (...) {}
}

RedisUrl RedisServer::url() const {
  RedisUrl u;
  u.host = "127.0.0.1";
  u.port = port_;
  u.password = password_;
  return u;
}

void RedisServer::fail(const std::string& what) {
  std::string tail;
  std::ifstream log(log_file());
  std::vector<std::string> lines;
  for (std::string l; std::getline(log, l);) lines.push_back(l);
  for (size_t i = lines.size() > 8 ? lines.size() - 8 : 0; i < lines.size(); i++) tail += "\n    " + lines[i];
  throw Error(ErrorKind::Generic, "redis-server on " + dir_ + " (port " + std::to_string(port_) + ") " + what +
                                      (tail.empty() ? "" : "; its log ends:" + tail));
}

namespace {

// One redis.conf line: the value as one double-quoted argument (Redis's sdssplitargs reads \\,
// \" and \xHH in it), so that no value can start another line.
std::string config_line(const std::string& name, const std::string& value) {
  if (name.empty() ||
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != std::string::npos)
    throw Error(ErrorKind::Usage, "'" + name + "' is not a redis-server setting name");
  std::string out = name + " \"";
  for (unsigned char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20 || c >= 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += {'\\', 'x', hex[c >> 4], hex[c & 15]};
    } else {
      out += char(c);
    }
  }
  return out + "\"\n";
}

}  // namespace

void RedisServer::start(const std::vector<std::string>& extra, int timeout_s,
                        const std::vector<std::pair<std::string, std::string>>& settings) {
  // "-" first: the configuration comes from standard input (Redis 6 and 7 both read it so).
  std::vector<std::string> argv = {
      binary_,       "-",   "--port",    std::to_string(port_), "--dir",     dir_,      "--dbfilename", "dump.rdb",
      "--daemonize", "yes", "--pidfile", dir_ + "/redis.pid",   "--logfile", log_file()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  std::string config;
  for (const auto& [name, value] : settings) config += config_line(name, value);
  int rc;
  std::string out;
  {
    Subprocess p(argv, Subprocess::Stdout::Pipe, "", Subprocess::Stdin::Pipe);
    for (size_t done = 0; done < config.size();) {
      ssize_t n = write(p.stdin_fd(), config.data() + done, config.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // it exited early: its output says why
      done += size_t(n);
    }
    p.close_stdin();
    char buf[4096];
    while (true) {
      ssize_t n = read(p.stdout_fd(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      if (out.size() < 65536) out.append(buf, size_t(n));
    }
    rc = p.wait();
    std::string err = p.stderr_text();
    if (!err.empty()) out += (out.empty() || out.back() == '\n' ? "" : "\n") + err;
  }
  if (rc != 0) fail("did not start (exit " + std::to_string(rc) + "): " + out);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cancel_ && cancel_->cancelled()) {
      if (pid_ < 0) {  // daemonized already: its pid file names it
        try {
          Bytes p = read_whole_file(dir_ + "/redis.pid");
          pid_ = std::stoi(std::string(p.begin(), p.end()));
        } catch (const std::exception&) {}
      }
      stop();
      cancel_->check("starting redis-server");
    }
    if (pid_ < 0) {
      try {
        Bytes p = read_whole_file(dir_ + "/redis.pid");
        pid_ = std::stoi(std::string(p.begin(), p.end()));
      } catch (const std::exception&) {}
    }
    if (pid_ > 0 && kill(pid_, 0) != 0) {
      pid_ = -1;
      fail("stopped while loading");
    }
    try {
      RedisConn c(url(), RedisTls{}, 2000);
      auto info = c.info("persistence");
      bool loading = false;
      for (const auto& [k, v] : info)
        if ((k == "loading" || k == "async_loading") && v == "1") loading = true;
      if (!loading && pid_ > 0) return;
    } catch (const Error& e) {
      last = e.what();  // not listening yet, or LOADING
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  fail("did not finish loading within " + std::to_string(timeout_s) + " s (" + last + ")");
}

void RedisServer::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 600 && kill(pid_, 0) == 0; i++) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (kill(pid_, 0) == 0) kill(pid_, SIGKILL);
  pid_ = -1;
}

}  // namespace arca
