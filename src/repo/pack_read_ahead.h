// Read-ahead for blobs of remote packs. On an object store every ranged GET costs a round trip,
// and a restore reads the blobs of a pack mostly in the order they were written. So packs are
// read in fixed, aligned windows (a few MiB): the first blob wanted from a window fetches all of
// it, the blobs after it come from memory, and a blob spanning a window boundary is assembled
// from both. Aligned windows never overlap, so concurrent readers share them and each byte is
// fetched once. Threads wanting a window that is being fetched wait for that fetch.
// Memory is bounded: `slots` windows of `window` bytes, least recently used evicted.
#pragma once
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/backend.h"

namespace arca {

class PackReadAhead {
 public:
  using Buffer = std::shared_ptr<const Bytes>;
  // Bytes read from a pack, with what keeps them alive.
  struct Slice {
    Buffer owner;
    ByteView view;
    static Slice own(Bytes bytes);
  };

  PackReadAhead(const Backend& backend, uint64_t window, size_t slots);
  // Exactly `length` bytes at `offset` of `pack` (errors as Backend::get_range). A range inside
  // one window is a view of it, not a copy; one spanning windows is assembled.
  Slice read(const std::string& pack, uint64_t offset, uint64_t length);

 private:
  struct Window {
    std::string pack;
    uint64_t index;  // covers [index * window, (index + 1) * window)
    std::shared_future<Buffer> data;
    uint64_t last_use;
  };
  // The window's bytes (shorter at the end of the pack), from memory or fetched now.
  Buffer window(const std::string& pack, uint64_t index);

  const Backend& backend_;
  uint64_t window_;
  size_t slots_;
  std::mutex mu_;
  std::vector<Window> windows_;
  uint64_t clock_ = 0;
};

}  // namespace arca
