// A Redis connection: RESP2 commands and replies over TCP or TLS (OpenSSL), plus raw reads for
// the replication stream. Plain sockets rather than hiredis: the RDB payload of a full
// resynchronisation is not RESP-framed, and Arca reads it straight from the socket buffer.
#pragma once
#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sources/redis/resp_reader.h"
#include "util/bytes.h"
#include "util/fd.h"

namespace arca {

struct RedisTls {
  bool enabled = false;
  std::string ca_file;              // default: the system's trust store
  std::string cert_file, key_file;  // client certificate, when the server asks for one
  bool insecure = false;            // do not verify the server's certificate
};

// redis://[user:password@]host[:port][/db] or rediss://… (TLS). The password may also come
// from the REDISCLI_AUTH environment variable, as for redis-cli.
struct RedisUrl {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string user, password;
  int db = -1;  // -1: not given
  bool tls = false;
  static RedisUrl parse(const std::string& url);
  std::string describe() const;  // without the password
};

// `url` with `password` in its user information (percent-encoded), for a password that came
// from a file rather than the command line (docs/security.md); Error(Usage) if `url` already
// holds one.
std::string redis_url_with_password(const std::string& url, const std::string& password);

class CancelToken;

class RedisConn {
 public:
  // Connects and authenticates; throws Error (Unreachable: nothing listening, or no answer before
  // the connection broke or timed out; Auth: refused login).
  RedisConn(const RedisUrl& url, const RedisTls& tls, int timeout_ms = 30'000);
  ~RedisConn();
  RedisConn(const RedisConn&) = delete;
  RedisConn& operator=(const RedisConn&) = delete;

  // Sends one command and returns its reply; an error reply throws Error naming `what`.
  RedisReply command(const std::vector<std::string>& args, const std::string& what);
  // Pipelining: send() queues a command (flushed by flush() or read_reply()).
  void send(const std::vector<std::string>& args);
  void flush();
  RedisReply read_reply();
  // One line without its CRLF (the replication handshake's "+FULLRESYNC …", "$EOF:…").
  std::string read_line();
  // Raw bytes: whatever is buffered or arrives next (0 only at end of stream, which throws).
  size_t read_some(uint8_t* out, size_t max);
  void set_timeout(int timeout_ms);
  // Waits for the server look at `cancel` every 100 ms (the timeout still bounds each wait): a
  // cancel throws Error(Cancelled, "<what> cancelled").
  void set_cancel(const CancelToken* cancel, const char* what) { cancel_ = cancel, cancel_what_ = what; }

  const RedisUrl& url() const { return url_; }
  std::string describe() const { return url_.describe(); }
  // INFO <section> as name → value.
  std::vector<std::pair<std::string, std::string>> info(const std::string& section);

 private:
  size_t recv_some(uint8_t* out, size_t max);
  void write_raw(const uint8_t* p, size_t n);
  void await_input();
  [[noreturn]] void broken(const std::string& how);

  RedisUrl url_;
  UniqueFd fd_;
  struct SslFree {
    void operator()(SSL* s) const { SSL_free(s); }
    void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
  };
  std::unique_ptr<SSL_CTX, SslFree> ctx_;
  std::unique_ptr<SSL, SslFree> ssl_;
  RespReader in_{[this] { return "Redis at " + describe(); }, [this](uint8_t* p, size_t n) { return recv_some(p, n); }};
  std::string out_;
  int timeout_ms_ = 0;
  const CancelToken* cancel_ = nullptr;
  const char* cancel_what_ = "Redis transfer";
  bool answered_ = false;  // a byte has arrived: a break after this is an I/O error, not "unreachable"
};

}  // namespace arca
