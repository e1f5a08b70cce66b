#include "util/bytes.h"

#include "util/error.h"

namespace arca {

static const char kHex[] = "0123456789abcdef";

std::string to_hex(ByteView data) {
  std::string s;
  s.resize(data.size() * 2);
  for (size_t i = 0; i < data.size(); i++) {
    s[2 * i] = kHex[data[i] >> 4];
    s[2 * i + 1] = kHex[data[i] & 15];
  }
  return s;
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Bytes from_hex(std::string_view s) {
  if (s.size() % 2) throw Error(ErrorKind::Usage, "invalid hex string '" + std::string(s) + "'");
  Bytes out(s.size() / 2);
  for (size_t i = 0; i < out.size(); i++) {
    int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);
    if (hi < 0 || lo < 0) throw Error(ErrorKind::Usage, "invalid hex string '" + std::string(s) + "'");
    out[i] = uint8_t(hi << 4 | lo);
  }
  return out;
}

std::string Id::hex() const { return to_hex(b); }

bool Id::is_zero() const {
  for (auto c : b)
    if (c) return false;
  return true;
}

Id Id::from_hex(std::string_view s) {
  Bytes raw = arca::from_hex(s);
  if (raw.size() != 32) throw Error(ErrorKind::Usage, "invalid id '" + std::string(s) + "' (want 64 hex digits)");
  Id id;
  std::memcpy(id.b.data(), raw.data(), 32);
  return id;
}

static const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string to_base64(ByteView data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t v = data[i] << 16 | data[i + 1] << 8 | data[i + 2];
    for (int k = 3; k >= 0; k--) out.push_back(kB64[(v >> (6 * k)) & 63]);
  }
  if (i + 1 == data.size()) {
    uint32_t v = data[i] << 16;
    out += {kB64[v >> 18], kB64[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == data.size()) {
    uint32_t v = data[i] << 16 | data[i + 1] << 8;
    out += {kB64[v >> 18], kB64[(v >> 12) & 63], kB64[(v >> 6) & 63], '='};
  }
  return out;
}

Bytes from_base64(std::string_view s) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (s.size() % 4) throw Error(ErrorKind::Corrupt, "invalid base64 value");
  Bytes out;
  out.reserve(s.size() / 4 * 3);
  for (size_t i = 0; i < s.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; k++) {
      if (s[i + k] == '=' && i + 4 == s.size() && k >= 2) {
        v[k] = 0;
        pad++;
      } else if ((v[k] = val(s[i + k])) < 0 || pad) {
        throw Error(ErrorKind::Corrupt, "invalid base64 value");
      }
    }
    uint32_t w = v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3];
    out.push_back(uint8_t(w >> 16));
    if (pad < 2) out.push_back(uint8_t(w >> 8));
    if (pad < 1) out.push_back(uint8_t(w));
  }
  return out;
}

void Reader::need(size_t n) {
  if (data_.size() - pos_ < n) throw Error(ErrorKind::Corrupt, what_ + ": truncated");
}
uint8_t Reader::u8() {
  need(1);
  return data_[pos_++];
}
uint32_t Reader::u32() {
  need(4);
  uint32_t v = get_u32(data_.data() + pos_);
  pos_ += 4;
  return v;
}
uint64_t Reader::u64() {
  need(8);
  uint64_t v = get_u64(data_.data() + pos_);
  pos_ += 8;
  return v;
}
Id Reader::id() {
  need(32);
  Id id;
  std::memcpy(id.b.data(), data_.data() + pos_, 32);
  pos_ += 32;
  return id;
}
uint32_t Reader::count(size_t item_bytes, const char* items) {
  uint32_t n = u32();
  if (uint64_t(n) * item_bytes > remaining())
    throw Error(ErrorKind::Corrupt, what_ + ": declares " + std::to_string(n) + " " + items + " in " +
                                        std::to_string(remaining()) + " remaining bytes (damaged or crafted)");
  return n;
}
ByteView Reader::take(size_t n) {
  need(n);
  ByteView v = data_.subspan(pos_, n);
  pos_ += n;
  return v;
}

}  // namespace arca
