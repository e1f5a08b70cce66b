// A 256-bit secret key that wipes itself.
#pragma once
#include <openssl/crypto.h>

#include <array>
#include <cstdint>

namespace arca {

struct Key {
  std::array<uint8_t, 32> b{};
  Key() = default;
  Key(const Key&) = default;
  Key& operator=(const Key&) = default;
  ~Key() { OPENSSL_cleanse(b.data(), b.size()); }
};

}  // namespace arca
