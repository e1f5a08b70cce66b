// Replies from a Redis server (RESP2), read by RedisConn's reading half (RespReader) from what
// the "server" sends, in pieces of varying size. An odd first byte reads one line first (as the
// replication handshake does), then replies until the stream ends.
#include <cstring>

#include "fuzz.h"
#include "sources/redis/resp_reader.h"

ARCA_FUZZ_TARGET(data, size) {
  if (size < 2) return;
  bool line_first = data[0] & 1;
  size_t piece = size_t(data[0] >> 1) * 13 + 1;
  data++, size--;
  size_t pos = 0;
  arca::RespReader r([] { return std::string("Redis at fuzz"); },
                     [&](uint8_t* out, size_t max) -> size_t {
                       size_t n = std::min({max, piece, size - pos});
                       if (n == 0)
                         throw arca::Error(arca::ErrorKind::Generic,
                                           "Redis at fuzz closed the connection");  // as RedisConn does
                       std::memcpy(out, data + pos, n);
                       pos += n;
                       return n;
                     });
  if (line_first) (void)r.read_line();
  for (;;) (void)r.read_reply();
}
