#include "sources/redis/resp_reader.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "util/error.h"

namespace arca {

void RespReader::violation(const std::string& how) const { throw Error(ErrorKind::Corrupt, peer_() + " " + how); }

void RespReader::fill() {
  if (pos_ == end_) pos_ = end_ = 0;
  if (end_ == buf_.size()) {
    // Compact only when that frees at least half the buffer, else grow: each byte is moved a
    // bounded number of times, and the buffer stays within twice the unconsumed bytes.
    if (pos_ >= buf_.size() / 2 && pos_ > 0) {
      std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
      end_ -= pos_;
      pos_ = 0;
    } else {
      buf_.resize(std::max<size_t>(256 * 1024, buf_.size() * 2));
    }
  }
  end_ += recv_(buf_.data() + end_, buf_.size() - end_);
}

std::string RespReader::read_line() {
  while (true) {
    // Only the bytes not scanned yet: a line arriving a byte at a time costs linear time.
    if (end_ - pos_ > scanned_) {
      const uint8_t* from = buf_.data() + pos_ + scanned_;
      if (const void* nl = std::memchr(from, '\n', end_ - pos_ - scanned_)) {
        size_t len = size_t(static_cast<const uint8_t*>(nl) - (buf_.data() + pos_));
        std::string line(reinterpret_cast<const char*>(buf_.data() + pos_), len);
        pos_ += len + 1;
        scanned_ = 0;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return line;
      }
      scanned_ = end_ - pos_;
    }
    if (scanned_ > kMaxRespLine) violation("sent a line longer than 64 MiB: not the Redis protocol");
    fill();
  }
}

size_t RespReader::read_some(uint8_t* out, size_t max) {
  if (pos_ == end_) fill();
  size_t n = std::min(max, end_ - pos_);
  std::memcpy(out, buf_.data() + pos_, n);
  pos_ += n;
  scanned_ = 0;
  return n;
}

RedisReply RespReader::read_reply() {
  size_t budget = kMaxReplyElements;
  return reply_at(0, budget);
}

RedisReply RespReader::reply_at(int depth, size_t& budget) {
  if (depth > kMaxReplyDepth) violation("sent replies nested too deeply: not what Arca asked for");
  std::string line = read_line();
  RedisReply r;
  if (line.empty()) violation("sent an empty reply line: not the Redis protocol");
  char kind = line[0];
  std::string body = line.substr(1);
  auto number = [&] {
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(body.c_str(), &end, 10);
    if (body.empty() || *end || errno) violation("sent '" + line.substr(0, 40) + "': not the Redis protocol");
    return int64_t(v);
  };
  switch (kind) {
    case '+':
      r.type = RedisReply::Type::Status;
      r.str = body;
      break;
    case '-':
      r.type = RedisReply::Type::Error;
      r.str = body;
      break;
    case ':':
      r.type = RedisReply::Type::Integer;
      r.integer = number();
      break;
    case '$': {
      int64_t len = number();
      if (len < 0) break;  // nil
      if (len > kMaxRespBulk) violation("announced a reply of " + std::to_string(len) + " bytes");
      r.type = RedisReply::Type::Bulk;
      // Grows as the bytes arrive, never by the announced length alone (see docs/security.md).
      while (r.str.size() < size_t(len)) {
        if (pos_ == end_) fill();
        size_t k = std::min(size_t(len) - r.str.size(), end_ - pos_);
        r.str.append(reinterpret_cast<const char*>(buf_.data() + pos_), k);
        pos_ += k;
      }
      scanned_ = 0;
      uint8_t crlf[2];
      for (size_t g = 0; g < 2;) g += read_some(crlf + g, 2 - g);
      if (crlf[0] != '\r' || crlf[1] != '\n')
        violation("sent a bulk reply longer than it announced: not the Redis protocol");
      break;
    }
    case '*': {
      int64_t n = number();
      if (n < 0) break;
      // Counted over the whole reply, nested arrays included: each element costs far more
      // memory than the 3 bytes that announce it.
      if (uint64_t(n) > budget)
        violation("announced " + std::to_string(n) + " array elements (a reply may hold " +
                  std::to_string(kMaxReplyElements) + " in all)");
      budget -= size_t(n);
      r.type = RedisReply::Type::Array;
      for (int64_t i = 0; i < n; i++) r.elements.push_back(reply_at(depth + 1, budget));
      break;
    }
    default:
      violation("sent '" + line.substr(0, 40) + "': not the Redis protocol (is this a Redis server?)");
  }
  return r;
}

}  // namespace arca
