// A growable buffer aligned for O_DIRECT I/O. The alignment is the larger of 4096 (every common
// logical block size) and the page size: direct writes then never share a page with the
// buffered writes next to them, which could otherwise leave stale cached data behind.
#pragma once
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

namespace arca {

inline size_t direct_align() {
  static const size_t a = std::max<size_t>(4096, size_t(sysconf(_SC_PAGESIZE)));
  return a;
}

inline uint64_t align_down(uint64_t v) { return v & ~uint64_t(direct_align() - 1); }
inline uint64_t align_up(uint64_t v) { return align_down(v + direct_align() - 1); }

class AlignedBuffer {
 public:
  uint8_t* data() { return p_.get(); }
  // Grows to at least n bytes; contents are not preserved.
  void reserve(size_t n) {
    if (n <= cap_) return;
    p_.reset(allocate(n));
    cap_ = align_up(n);
  }
  // Grows to at least n bytes, keeping the first `keep` bytes.
  void grow(size_t n) { grow(n, cap_); }
  void grow(size_t n, size_t keep) {
    if (n <= cap_) return;
    size_t cap = std::max(align_up(n), 2 * cap_);
    uint8_t* p = allocate(cap);
    if (cap_) std::memcpy(p, p_.get(), std::min(keep, cap_));
    p_.reset(p);
    cap_ = cap;
  }

 private:
  static uint8_t* allocate(size_t n) {
    void* p = nullptr;
    if (posix_memalign(&p, direct_align(), align_up(n)) != 0) throw std::bad_alloc();
    return static_cast<uint8_t*>(p);
  }
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, Free> p_;
  size_t cap_ = 0;
};

}  // namespace arca
