// LZF as RDB strings carry it: a declared decompressed length, then the compressed bytes.
#include "fuzz.h"
#include "sources/redis/rdb_parser.h"

ARCA_FUZZ_TARGET(data, size) {
  if (size < 4) return;
  // The declared length comes from the stream, as in the RDB (up to 32 bits).
  size_t out_len = size_t(data[0]) | size_t(data[1]) << 8 | size_t(data[2]) << 16 | size_t(data[3]) << 24;
  arca::lzf_decompress(arca_fuzz::view(data + 4, size - 4), out_len);
}
