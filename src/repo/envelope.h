// The sealed form of every stored object and blob:
//   u8 format (1) | u32le key version | nonce(12) | AES-256-GCM ciphertext | tag(16)
// The first five bytes, followed by the object's name for whole objects ("config",
// "snapshots/<id>", …; empty for blobs, which are bound to their keyed ids instead), are the
// associated data: an object copied over another one fails authentication. The plaintext is
//   payload | u8 codec (0 none, 1 zstd)
// (the codec byte comes last so an uncompressed payload needs no copy when opened).
#pragma once
#include <span>
#include <string>
#include <string_view>

#include "repo/compress.h"
#include "repo/keyring.h"
#include "util/bytes.h"

namespace arca {

constexpr uint8_t kEnvelopeFormat = 1;
constexpr size_t kEnvelopeHeader = 5;
constexpr size_t kEnvelopeOverhead = kEnvelopeHeader + 28 + 1;

// Appends the sealed form of `payload` to `out` using key `version` (0 = master key).
void seal(const Keyring& keys, uint32_t version, ByteView payload, int zstd_level, Bytes& out,
          std::string_view name = {});
Bytes seal(const Keyring& keys, uint32_t version, ByteView payload, int zstd_level, std::string_view name = {});
// Authenticates, decrypts and decompresses; throws Error(Corrupt) naming `what` on any failure,
// also when the payload declares more than `max_size` decoded bytes (blobs: the plaintext
// length the index records).
Bytes unseal(const Keyring& keys, ByteView sealed, const std::string& what, std::string_view name = {},
             uint64_t max_size = uint64_t(1) << 32);
// The same into `out`, which must be the payload's exact size (blobs: the index records it).
void unseal_into(const Keyring& keys, ByteView sealed, std::span<uint8_t> out, const std::string& what,
                 std::string_view name = {});

}  // namespace arca
