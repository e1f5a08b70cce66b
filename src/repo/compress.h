// zstd per blob, skipped when it does not pay: incompressible data is detected on a small sample
// so that it costs almost nothing.
#pragma once
#include <cstdint>
#include <span>
#include <string>

#include "util/bytes.h"

namespace arca {

enum class Codec : uint8_t { None = 0, Zstd = 1 };

// Appends the encoded payload to `out` and returns the codec used. level 0 = never compress.
Codec compress_maybe(ByteView data, int level, Bytes& out);
// Decodes a payload; `what` names the object in errors. A payload that declares more than
// `max_size` decoded bytes (blobs: the plaintext length the index records) is Corrupt before
// anything is allocated.
Bytes decompress(Codec codec, ByteView data, const std::string& what, uint64_t max_size = uint64_t(1) << 32);
// Decodes into `out`, whose size the caller knows (the index records it); a payload of any other
// size is Corrupt. Saves the copy from a fresh buffer into the caller's.
void decompress_into(Codec codec, ByteView data, std::span<uint8_t> out, const std::string& what);

}  // namespace arca
