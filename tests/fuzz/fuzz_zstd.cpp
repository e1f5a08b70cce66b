// A blob's zstd payload, decoded as readers do: bounded by the size the index records for the
// blob (the first four bytes here), and into a buffer of that size.
#include <vector>

#include "fuzz.h"
#include "repo/compress.h"

ARCA_FUZZ_TARGET(data, size) {
  if (size < 4) return;
  uint32_t recorded = uint32_t(data[0]) | uint32_t(data[1]) << 8 | uint32_t(data[2]) << 16 | uint32_t(data[3]) << 24;
  arca::ByteView payload = arca_fuzz::view(data + 4, size - 4);
  try {
    (void)arca::decompress(arca::Codec::Zstd, payload, "blob fuzz", recorded);
  } catch (const arca::Error&) {}
  std::vector<uint8_t> out(recorded % (1 << 20));  // the caller allocates this; kept small here
  arca::decompress_into(arca::Codec::Zstd, payload, out, "blob fuzz");
}
