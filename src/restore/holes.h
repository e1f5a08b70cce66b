// Finding the runs of zeros a restore leaves as holes, so that a sparse file (a VM image, a
// database's preallocated file) does not come back fully allocated and fill the target disk.
#pragma once
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

namespace arca {

constexpr uint64_t kHoleBlock = 4096;
// Shorter zero runs are written: a hole of a few blocks in a file that is later rewritten in
// place (a database page) would only fragment it, while real sparse regions are long.
constexpr uint64_t kHoleMin = 64 << 10;

inline bool all_zero(const uint8_t* p, size_t n) {
  // The first bytes settle almost every block that is not zero; the rest is one vectorised pass.
  size_t head = n < 16 ? n : 16;
  for (size_t i = 0; i < head; i++)
    if (p[i]) return false;
  uint64_t acc = 0;
  size_t i = head;
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    std::memcpy(&v, p + i, 8);
    acc |= v;
  }
  for (; i < n; i++) acc |= p[i];
  return acc == 0;
}

// The holes in `data`, which belongs at file offset `off`: maximal runs of zeros that cover whole
// kHoleBlock-aligned blocks of the file, at least kHoleMin long. Returns [begin, end) file offsets.
inline std::vector<std::pair<uint64_t, uint64_t>> zero_runs(const uint8_t* data, uint64_t off, uint64_t len) {
  std::vector<std::pair<uint64_t, uint64_t>> runs;
  uint64_t end = off + len;
  uint64_t b = (off + kHoleBlock - 1) / kHoleBlock * kHoleBlock;
  uint64_t run_start = 0;
  bool in_run = false;
  auto close = [&](uint64_t at) {
    if (in_run && at - run_start >= kHoleMin) runs.emplace_back(run_start, at);
    in_run = false;
  };
  for (; b + kHoleBlock <= end; b += kHoleBlock) {
    if (all_zero(data + (b - off), kHoleBlock)) {
      if (!in_run) run_start = b, in_run = true;
    } else {
      close(b);
    }
  }
  close(b);
  return runs;
}

}  // namespace arca
