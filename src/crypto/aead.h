// AES-256-GCM with a fresh random 96-bit nonce per message: output is nonce || ciphertext || tag.
#pragma once
#include <optional>

#include "crypto/key.h"
#include "util/bytes.h"

namespace arca {

constexpr size_t kNonceSize = 12;
constexpr size_t kTagSize = 16;
constexpr size_t kAeadOverhead = kNonceSize + kTagSize;

// Appends nonce || ciphertext || tag of `plain` to `out`; `aad` is authenticated, not stored.
void aead_seal(const Key& key, ByteView aad, ByteView plain, Bytes& out);
// Returns the plaintext, or nullopt if the message was tampered with or the key is wrong.
std::optional<Bytes> aead_open(const Key& key, ByteView aad, ByteView sealed);
// The same into `plain`, which holds sealed.size() - kAeadOverhead bytes (callers reuse one
// buffer: a fresh one per blob costs page faults). False if tampered with or the key is wrong.
bool aead_open(const Key& key, ByteView aad, ByteView sealed, uint8_t* plain);

}  // namespace arca
