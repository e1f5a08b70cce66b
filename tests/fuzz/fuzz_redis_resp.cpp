// Replies from a Redis server (RESP2), read by the same connection class backups use: the input
// is what the "server" sends on a loopback socket before closing it. An odd first byte reads one
// line first (as the replication handshake does), then replies until the stream ends.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "sources/redis/redis_conn.h"

static int listener(int& port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 16) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    abort();
  port = ntohs(a.sin_port);
  return fd;
}

ARCA_FUZZ_TARGET(data, size) {
  static int port = 0;
  static int lfd = listener(port);
  if (size < 1 || size > (256 << 10)) return;  // more would not fit the socket buffer unread
  arca::RedisUrl url;
  url.host = "127.0.0.1";
  url.port = port;
  arca::RedisConn conn(url, {}, 5000);
  int s = accept(lfd, nullptr, nullptr);
  if (s < 0) abort();
  int buf = 1 << 20;
  setsockopt(s, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  bool line_first = data[0] & 1;
  for (size_t off = 1; off < size;) {
    ssize_t n = write(s, data + off, size - off);
    if (n <= 0) abort();
    off += size_t(n);
  }
  close(s);
  if (line_first) (void)conn.read_line();
  for (int i = 0; i < 1000; i++) (void)conn.read_reply();
}
