// zstd per blob, skipped when it does not pay: incompressible data is detected on a small sample
// so that it costs almost nothing.
#pragma once
#include "util/bytes.h"

namespace arca {

enum class Codec : uint8_t { None = 0, Zstd = 1 };

// Appends the encoded payload to `out` and returns the codec used. level 0 = never compress.
Codec compress_maybe(ByteView data, int level, Bytes& out);
// Decodes a payload; `what` names the object in errors.
Bytes decompress(Codec codec, ByteView data, const std::string& what);

}  // namespace arca
