// Content-defined chunking, FastCDC style: a gear rolling hash with normalized chunking (a stricter
// mask before the average size, a looser one after), so chunk sizes cluster around the average and
// boundaries depend only on nearby content (stable under insertions and deletions elsewhere).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>

#include "crypto/key.h"
#include "util/bytes.h"

namespace arca {

struct ChunkerParams {
  // Defaults chosen by measurement (bench/chunk-params.sh, docs/benchmarks.md).
  uint32_t min_size = 256 * 1024;
  uint32_t avg_size = 512 * 1024;  // must be a power of two
  uint32_t max_size = 2 * 1024 * 1024;
  void validate() const;  // throws Error(Usage)
};

class Chunker {
 public:
  // `seed` makes the gear table secret per repository, so boundaries do not leak content.
  Chunker(const ChunkerParams& params, const Key& seed);
  // Length of the next chunk at the start of `data`. If `data` is shorter than max_size, it must
  // be the end of the stream; the whole remainder may then be returned.
  size_t cut(ByteView data) const;
  const ChunkerParams& params() const { return p_; }

 private:
  ChunkerParams p_;
  uint64_t mask_small_;  // more bits set: harder to cut before the average
  uint64_t mask_large_;  // fewer bits set: easier to cut after the average
  std::array<uint64_t, 256> gear_{};
};

}  // namespace arca
