// A whole RDB file as a Redis master sends it, values delimited (as `arca redis backup` asks).
#include <cstring>

#include "fuzz.h"
#include "sources/redis/rdb_parser.h"

ARCA_FUZZ_TARGET(data, size) {
  size_t pos = 0;
  arca::RdbInput in([&](uint8_t* out, size_t max) {
    size_t n = std::min(max, size - pos);
    if (n) std::memcpy(out, data + pos, n);
    pos += n;
    return n;
  });
  uint64_t seen = 0;
  arca::parse_rdb(
      in, [&](const arca::RdbKey& k) { seen += k.key.size() + (k.value ? k.value->size() : 0); }, true);
}
