#include "sources/redis/crc64.h"

#include <array>
#include <cstring>

namespace arca {

namespace {

// Slicing-by-8 tables for the bit-reversed polynomial 0xad93d23594c935a9.
struct Tables {
  std::array<std::array<uint64_t, 256>, 8> t{};
  Tables() {
    const uint64_t poly = 0x95ac9329ac4bc9b5ULL;
    for (unsigned i = 0; i < 256; i++) {
      uint64_t c = i;
      for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
      t[0][i] = c;
    }
    for (unsigned i = 0; i < 256; i++)
      for (unsigned s = 1; s < 8; s++) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
  }
};

const Tables& tables() {
  static const Tables tab;
  return tab;
}

}  // namespace

uint64_t crc64_redis(uint64_t crc, ByteView data) {
  const auto& t = tables().t;
  const uint8_t* p = data.data();
  size_t n = data.size();
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);  // little-endian hosts (x86-64, arm64)
    crc ^= v;
    crc = t[7][crc & 0xff] ^ t[6][(crc >> 8) & 0xff] ^ t[5][(crc >> 16) & 0xff] ^ t[4][(crc >> 24) & 0xff] ^
          t[3][(crc >> 32) & 0xff] ^ t[2][(crc >> 40) & 0xff] ^ t[1][(crc >> 48) & 0xff] ^ t[0][crc >> 56];
    p += 8;
    n -= 8;
  }
  while (n--) crc = t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return crc;
}

}  // namespace arca
