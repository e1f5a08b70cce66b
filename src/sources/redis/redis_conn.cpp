#include "sources/redis/redis_conn.h"

#include <openssl/err.h>
#include <sys/socket.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "util/cancel.h"
#include "util/error.h"
#include "util/net.h"

namespace arca {

namespace {

std::string percent_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(uint8_t(s[i + 1])) && std::isxdigit(uint8_t(s[i + 2]))) {
      out += char(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The URL without its user and password, for messages.
std::string redact(const std::string& url) {
  auto scheme = url.find("://");
  auto at = url.rfind('@');
  if (at == std::string::npos) return url;
  return url.substr(0, scheme == std::string::npos ? 0 : scheme + 3) + "…@" + url.substr(at + 1);
}

std::string ssl_error_text() {
  unsigned long e = ERR_get_error();
  if (!e) return "connection closed during the TLS handshake";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

}  // namespace

RedisUrl RedisUrl::parse(const std::string& url) {
  RedisUrl u;
  std::string rest;
  if (url.rfind("redis://", 0) == 0)
    rest = url.substr(8);
  else if (url.rfind("rediss://", 0) == 0) {
    rest = url.substr(9);
    u.tls = true;
  } else {
    throw Error(ErrorKind::Usage, "'" + redact(url) +
                                      "' is not a Redis URL: write redis://[user:password@]host[:port][/db] "
                                      "(rediss:// for TLS)");
  }
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    std::string cred = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = cred.find(':');
    if (colon == std::string::npos)
      u.password = percent_decode(cred);  // redis://password@host, as redis-cli
    else {
      u.user = percent_decode(cred.substr(0, colon));
      u.password = percent_decode(cred.substr(colon + 1));
    }
  }
  std::string hostport = rest, db;
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    hostport = rest.substr(0, slash);
    db = rest.substr(slash + 1);
  }
  std::string port;
  if (!hostport.empty() && hostport[0] == '[') {  // [ipv6]:port
    auto close = hostport.find(']');
    if (close == std::string::npos) throw Error(ErrorKind::Usage, "unbalanced '[' in Redis URL '" + redact(url) + "'");
    u.host = hostport.substr(1, close - 1);
    if (close + 1 < hostport.size() && hostport[close + 1] == ':') port = hostport.substr(close + 2);
  } else if (auto colon = hostport.rfind(':'); colon != std::string::npos) {
    u.host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
  } else if (!hostport.empty()) {
    u.host = hostport;
  }
  auto number = [&](const std::string& s, const char* what, int max) {
    char* end = nullptr;
    long v = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end || v < 0 || v > max)
      throw Error(ErrorKind::Usage, std::string("bad ") + what + " '" + s + "' in the Redis URL");
    return int(v);
  };
  if (!port.empty()) u.port = number(port, "port", 65535);
  if (!db.empty()) u.db = number(db, "database number", 1 << 20);
  if (u.password.empty())
    if (const char* p = std::getenv("REDISCLI_AUTH")) u.password = p;
  return u;
}

std::string redis_url_with_password(const std::string& url, const std::string& password) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;  // parse() will say what is wrong with it
  std::string rest = url.substr(scheme + 3), user;
  auto end = rest.find_first_of("/?#");
  auto at = rest.rfind('@', end == std::string::npos ? std::string::npos : end);
  if (at != std::string::npos) {
    std::string cred = rest.substr(0, at);
    auto colon = cred.find(':');
    if (colon == std::string::npos || colon + 1 < cred.size())
      throw Error(ErrorKind::Usage,
                  "the Redis URL already holds a password: give it once, in the URL or in the password "
                  "file (a user name goes before a colon: redis://USER:@host)");
    user = cred.substr(0, colon);  // still percent-encoded
    rest = rest.substr(at + 1);
  }
  std::string enc;
  for (unsigned char c : password) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      enc += char(c);
    } else {
      static const char* hex = "0123456789ABCDEF";
      enc += {'%', hex[c >> 4], hex[c & 15]};
    }
  }
  return url.substr(0, scheme + 3) + user + ":" + enc + "@" + rest;
}

std::string RedisUrl::describe() const {
  std::string s = tls ? "rediss://" : "redis://";
  if (!user.empty()) s.append(user).append("@");
  if (host.find(':') != std::string::npos)
    s.append("[").append(host).append("]");
  else
    s.append(host);
  s.append(":").append(std::to_string(port));
  if (db >= 0) s.append("/").append(std::to_string(db));
  return s;
}

RedisConn::RedisConn(const RedisUrl& url, const RedisTls& tls, int timeout_ms) : url_(url) {
  fd_ = tcp_connect(url.host, url.port, timeout_ms, "Redis at " + url.describe());
  set_socket_timeouts(fd_.get(), timeout_ms);
  timeout_ms_ = timeout_ms;
  if (url.tls || tls.enabled) {
    url_.tls = true;
    ctx_.reset(SSL_CTX_new(TLS_client_method()));
    if (!ctx_) throw Error(ErrorKind::Generic, "cannot create a TLS context: " + ssl_error_text());
    if (!tls.ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(ctx_.get(), tls.ca_file.c_str(), nullptr) != 1)
        throw Error(ErrorKind::Usage, "cannot load the CA certificates in " + tls.ca_file + ": " + ssl_error_text());
    } else {
      SSL_CTX_set_default_verify_paths(ctx_.get());
    }
    if (!tls.cert_file.empty()) {
      if (SSL_CTX_use_certificate_chain_file(ctx_.get(), tls.cert_file.c_str()) != 1 ||
          SSL_CTX_use_PrivateKey_file(ctx_.get(), (tls.key_file.empty() ? tls.cert_file : tls.key_file).c_str(),
                                      SSL_FILETYPE_PEM) != 1)
        throw Error(ErrorKind::Usage, "cannot load the client certificate " + tls.cert_file + ": " + ssl_error_text());
    }
    SSL_CTX_set_verify(ctx_.get(), tls.insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, nullptr);
    ssl_.reset(SSL_new(ctx_.get()));
    SSL_set_fd(ssl_.get(), fd_.get());
    SSL_set_tlsext_host_name(ssl_.get(), url.host.c_str());
    if (!tls.insecure) SSL_set1_host(ssl_.get(), url.host.c_str());
    if (SSL_connect(ssl_.get()) != 1) {
      long v = SSL_get_verify_result(ssl_.get());
      if (v != X509_V_OK)
        throw Error(ErrorKind::Auth,
                    "TLS connection to Redis at " + url.describe() +
                        " failed: certificate verification failed: " + X509_verify_cert_error_string(v) +
                        " (give the CA with --tls-ca, or --tls-insecure to skip the check)");
      // No certificate to judge: the server hung up, did not answer in time, or does not speak TLS.
      throw Error(ErrorKind::Unreachable, "cannot reach Redis at " + url.describe() +
                                              ": the TLS handshake failed: " + ssl_error_text() +
                                              "\n  is the server running, and does it accept TLS on this port?");
    }
  }
  if (!url.password.empty()) {
    send(url.user.empty() ? std::vector<std::string>{"AUTH", url.password}
                          : std::vector<std::string>{"AUTH", url.user, url.password});
    RedisReply r = read_reply();
    if (r.is_error())
      throw Error(ErrorKind::Auth, "Redis at " + url.describe() + " refused the login: " + r.str +
                                       "\n  check the user and password in the URL (or REDISCLI_AUTH)");
  }
  RedisReply pong = command({"PING"}, "PING");
  (void)pong;
}

RedisConn::~RedisConn() = default;

void RedisConn::set_timeout(int timeout_ms) {
  set_socket_timeouts(fd_.get(), timeout_ms);
  timeout_ms_ = timeout_ms;
}

// With a cancel token: polls for input in slices until it arrives or the timeout has passed
// (then the recv that follows times out as before).
void RedisConn::await_input() {
  if (!cancel_ || (ssl_ && SSL_pending(ssl_.get()) > 0)) return;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_);
  while (true) {
    cancel_->check(cancel_what_);
    pollfd p{fd_.get(), POLLIN, 0};
    if (poll(&p, 1, int(kCancelSlice.count())) != 0) return;
    if (timeout_ms_ > 0 && std::chrono::steady_clock::now() >= deadline) return;
  }
}

void RedisConn::broken(const std::string& how) {
  // Silent or gone before its first byte: a server that does not answer (exit 10, as refused).
  if (!answered_)
    throw Error(ErrorKind::Unreachable, "the connection to Redis at " + url_.describe() + " " + how +
                                            " before any answer\n  is it a Redis server, running and answering "
                                            "on this port?");
  throw Error(ErrorKind::Io, "the connection to Redis at " + url_.describe() + " " + how);
}

void RedisConn::write_raw(const uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t w;
    if (ssl_) {
      w = SSL_write(ssl_.get(), p, int(std::min<size_t>(n, 1 << 30)));
      if (w <= 0) broken("broke while sending: " + ssl_error_text());
    } else {
      w = ::send(fd_.get(), p, n, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EINTR) continue;
        broken(std::string("broke while sending: ") + std::strerror(errno));
      }
    }
    p += w;
    n -= size_t(w);
  }
}

void RedisConn::send(const std::vector<std::string>& args) {
  out_.append("*").append(std::to_string(args.size())).append("\r\n");
  for (const auto& a : args) out_.append("$").append(std::to_string(a.size())).append("\r\n").append(a).append("\r\n");
  if (out_.size() >= (1 << 20)) flush();
}

void RedisConn::flush() {
  write_raw(reinterpret_cast<const uint8_t*>(out_.data()), out_.size());
  out_.clear();
}

size_t RedisConn::recv_some(uint8_t* out, size_t max) {
  max = std::min<size_t>(max, 1 << 30);
  await_input();
  while (true) {
    ssize_t n;
    if (ssl_) {
      n = SSL_read(ssl_.get(), out, int(max));
      if (n <= 0) {
        int e = SSL_get_error(ssl_.get(), int(n));
        if (e == SSL_ERROR_ZERO_RETURN) broken("was closed by the server");
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ||
            (e == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK)))
          broken("timed out waiting for the server");
        broken("broke: " + ssl_error_text());
      }
    } else {
      n = ::recv(fd_.get(), out, max, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) broken("timed out waiting for the server");
        broken(std::string("broke: ") + std::strerror(errno));
      }
      if (n == 0) broken("was closed by the server (did it stop or restart?)");
    }
    answered_ = true;
    return size_t(n);
  }
}

std::string RedisConn::read_line() {
  if (!out_.empty()) flush();
  return in_.read_line();
}

size_t RedisConn::read_some(uint8_t* out, size_t max) { return in_.read_some(out, max); }

RedisReply RedisConn::read_reply() {
  if (!out_.empty()) flush();
  return in_.read_reply();
}

RedisReply RedisConn::command(const std::vector<std::string>& args, const std::string& what) {
  send(args);
  RedisReply r = read_reply();
  if (r.is_error()) {
    ErrorKind kind = r.str.rfind("NOAUTH", 0) == 0 || r.str.rfind("NOPERM", 0) == 0 || r.str.rfind("WRONGPASS", 0) == 0
                         ? ErrorKind::Auth
                         : ErrorKind::Generic;
    std::string hint = r.str.rfind("NOAUTH", 0) == 0 ? "\n  the server needs a password: put it in the URL "
                                                       "(redis://user:password@host) or in REDISCLI_AUTH"
                                                     : "";
    throw Error(kind, "Redis at " + url_.describe() + " refused " + what + ": " + r.str + hint);
  }
  return r;
}

std::vector<std::pair<std::string, std::string>> RedisConn::info(const std::string& section) {
  RedisReply r = command({"INFO", section}, "INFO " + section);
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  while (pos < r.str.size()) {
    size_t end = r.str.find('\n', pos);
    if (end == std::string::npos) end = r.str.size();
    std::string line = r.str.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    auto colon = line.find(':');
    if (colon != std::string::npos) out.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return out;
}

}  // namespace arca
