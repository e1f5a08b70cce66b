#include "util/net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "util/error.h"

namespace arca {

namespace {

struct AddrInfoFree {
  void operator()(addrinfo* a) const { freeaddrinfo(a); }
};

// One non-blocking connect attempt bounded by `timeout_ms`; returns 0 or an errno value.
int connect_one(int fd, const addrinfo* a, int timeout_ms) {
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  int rc = connect(fd, a->ai_addr, a->ai_addrlen);
  int err = rc == 0 ? 0 : errno;
  if (err == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    int n;
    do n = poll(&p, 1, timeout_ms);
    while (n < 0 && errno == EINTR);
    if (n == 0) return ETIMEDOUT;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  }
  fcntl(fd, F_SETFL, flags);
  return err;
}

}  // namespace

UniqueFd tcp_connect(const std::string& host, int port, int timeout_ms, const std::string& what) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* raw = nullptr;
  std::string service = std::to_string(port);
  int g = getaddrinfo(host.c_str(), service.c_str(), &hints, &raw);
  if (g != 0)
    throw Error(ErrorKind::Unreachable,
                "cannot reach " + what + ": unknown host '" + host + "' (" + gai_strerror(g) + ")");
  std::unique_ptr<addrinfo, AddrInfoFree> list(raw);
  int last = 0;
  for (const addrinfo* a = list.get(); a; a = a->ai_next) {
    UniqueFd fd(socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
    if (!fd) {
      last = errno;
      continue;
    }
    last = connect_one(fd.get(), a, timeout_ms);
    if (last == 0) {
      int one = 1;
      setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      return fd;
    }
  }
  std::string reason =
      last == ETIMEDOUT ? "timed out after " + std::to_string(timeout_ms / 1000) + " s" : std::strerror(last);
  throw Error(ErrorKind::Unreachable,
              "cannot reach " + what + ": " + reason + " (is the server running and listening there?)");
}

void set_socket_timeouts(int fd, int timeout_ms) {
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

int free_port() {
  UniqueFd s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) throw_errno("socket", "finding a free port", errno);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw_errno("bind", "finding a free port", errno);
  return ntohs(a.sin_port);
}

}  // namespace arca
