// Read-ahead for blobs of remote packs. On an object store every ranged GET costs a round trip,
// and restoring reads blobs of a pack mostly in the order they were written; so a miss fetches a
// whole window (several MiB) from the blob on, and the blobs after it come from memory. Threads
// wanting a window that is already being fetched wait for that fetch instead of repeating it.
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
  PackReadAhead(const Backend& backend, uint64_t window, size_t slots);
  // Exactly `length` bytes at `offset` of `pack` (errors as Backend::get_range).
  Bytes read(const std::string& pack, uint64_t offset, uint64_t length);

 private:
  using Data = std::shared_future<std::shared_ptr<const Bytes>>;
  struct Window {
    std::string pack;
    uint64_t start;
    Data data;
    uint64_t last_use;
  };
  const Backend& backend_;
  uint64_t window_;
  size_t slots_;
  std::mutex mu_;
  std::vector<Window> windows_;
  uint64_t clock_ = 0;
};

}  // namespace arca
