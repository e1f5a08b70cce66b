#include "chunk/fastcdc.h"

#include <bit>

#include "crypto/hash.h"
#include "util/error.h"

namespace arca {

void ChunkerParams::validate() const {
  if (!std::has_single_bit(avg_size) || avg_size < 1024)
    throw Error(ErrorKind::Usage, "chunk average size must be a power of two of at least 1 KiB");
  if (!(min_size >= 64 && min_size < avg_size && avg_size < max_size))
    throw Error(ErrorKind::Usage, "chunk sizes must satisfy 64 <= min < avg < max");
  if (max_size > 64u * 1024 * 1024) throw Error(ErrorKind::Usage, "chunk max size must be at most 64 MiB");
}

Chunker::Chunker(const ChunkerParams& params, const Key& seed) : p_(params) {
  p_.validate();
  for (int i = 0; i < 256; i++) {
    uint8_t msg[2] = {uint8_t(i), 0x5a};
    Id h = hmac_sha256(seed, ByteView(msg, 2));
    gear_[i] = get_u64(h.b.data());
  }
  int bits = std::countr_zero(p_.avg_size);
  // The gear hash shifts left, so its top bits summarize the last 64 bytes: test those.
  auto top_mask = [](int n) { return ((uint64_t(1) << n) - 1) << (64 - n); };
  mask_small_ = top_mask(bits + 2);
  mask_large_ = top_mask(bits - 2);
}

size_t Chunker::cut(ByteView data) const {
  size_t n = data.size();
  if (n <= p_.min_size) return n;
  if (n > p_.max_size) n = p_.max_size;
  size_t normal = std::min<size_t>(p_.avg_size, n);
  const uint8_t* d = data.data();
  uint64_t h = 0;
  size_t i = p_.min_size;
  for (; i < normal; i++) {
    h = (h << 1) + gear_[d[i]];
    if (!(h & mask_small_)) return i + 1;
  }
  for (; i < n; i++) {
    h = (h << 1) + gear_[d[i]];
    if (!(h & mask_large_)) return i + 1;
  }
  return n;
}

}  // namespace arca
