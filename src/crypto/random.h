// Cryptographically secure random bytes (OpenSSL's DRBG).
#pragma once
#include <span>

#include "crypto/key.h"
#include "util/bytes.h"

namespace arca {

void random_bytes(std::span<uint8_t> out);
Key random_key();
Id random_id();

}  // namespace arca
