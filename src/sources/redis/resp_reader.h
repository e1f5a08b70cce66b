// The reading half of a Redis connection: a buffer over a byte source, RESP2 lines and
// replies, and raw reads for the replication stream. Apart from RedisConn so that what a server
// sends can be parsed (and tested) without a socket.
//
// The server may be one Arca does not control (docs/security.md, "Redis replication stream"):
// a line is scanned once, however it arrives (linear time); a bulk string grows only as its
// bytes arrive, whatever length it announces; a reply holds at most kMaxReplyElements elements
// in all, nested at most kMaxReplyDepth deep. Memory is a small multiple of what was received.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "util/bytes.h"

namespace arca {

struct RedisReply {
  enum class Type { Status, Error, Integer, Bulk, Nil, Array };
  Type type = Type::Nil;
  std::string str;  // status, error, bulk
  int64_t integer = 0;
  std::vector<RedisReply> elements;
  bool is_error() const { return type == Type::Error; }
};

constexpr size_t kMaxRespLine = 64 << 20;
constexpr int64_t kMaxRespBulk = int64_t(512) << 20;  // Redis's own proto-max-bulk-len default
constexpr int kMaxReplyDepth = 8;
// Arca's commands get replies of a few elements; this bounds a hostile one to a few MiB.
constexpr size_t kMaxReplyElements = 1 << 16;

class RespReader {
 public:
  // `recv` stores up to `max` bytes at `out` and returns how many (never 0: it throws at the
  // end of the stream); `peer` names the server in messages ("Redis at …").
  using Recv = std::function<size_t(uint8_t* out, size_t max)>;
  RespReader(std::function<std::string()> peer, Recv recv) : peer_(std::move(peer)), recv_(std::move(recv)) {}

  // One line without its CRLF.
  std::string read_line();
  // Whatever is buffered, or what arrives next.
  size_t read_some(uint8_t* out, size_t max);
  // One reply; protocol violations throw Error(Corrupt) naming the peer.
  RedisReply read_reply();

 private:
  void fill();
  RedisReply reply_at(int depth, size_t& budget);
  [[noreturn]] void violation(const std::string& how) const;
  std::function<std::string()> peer_;
  Recv recv_;
  Bytes buf_;
  size_t pos_ = 0, end_ = 0;
  size_t scanned_ = 0;  // bytes after pos_ known to hold no '\n'
};

}  // namespace arca
