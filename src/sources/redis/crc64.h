// Redis's CRC-64 (Jones polynomial, reflected, init 0): the checksum at the end of RDB files and
// of DUMP/RESTORE payloads.
#pragma once
#include <cstdint>

#include "util/bytes.h"

namespace arca {

uint64_t crc64_redis(uint64_t crc, ByteView data);

}  // namespace arca
