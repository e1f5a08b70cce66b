// Key-encryption keys: Argon2id for passphrases (memory-hard), HMAC-SHA-256 for key files.
#pragma once
#include <cstdint>
#include <string>

#include "crypto/key.h"
#include "util/bytes.h"

namespace arca {

struct Argon2Params {
  // ~0.08 s here; above OWASP's Argon2id minimum (19 MiB, 2 passes) with room to spare.
  uint32_t time_cost = 3;
  uint32_t memory_kib = 32 * 1024;
  uint32_t parallelism = 2;
};

Key derive_from_passphrase(const std::string& passphrase, ByteView salt, const Argon2Params& p);
Key derive_from_key_file(ByteView file_contents, ByteView salt);

}  // namespace arca
