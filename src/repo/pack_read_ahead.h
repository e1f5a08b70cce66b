// Read-ahead for blobs of remote packs. On an object store every ranged GET costs a round trip,
// and a restore reads the blobs of a pack mostly in the order they were written. So packs are
// read in fixed, aligned windows (a few MiB): the first blob wanted from a window fetches all of
// it, the blobs after it come from memory, and a blob spanning a window boundary is assembled
// from both. Aligned windows never overlap, so concurrent readers share them and each byte is
// fetched once. Threads wanting a window that is being fetched wait for that fetch.
// Memory is bounded: `slots` windows of `window` bytes (plus, briefly, an evicted window that a
// reader is still decoding a blob from). A pack's blobs often belong to files restored far
// apart (deduplicated blobs, files backed up side by side), so evicting the least recently used
// window refetches a third of the data in a typical restore. A reader that knows the order of
// its reads (a restore plans files before writing them) announces them with expect(); a full
// cache then evicts the window whose next announced read comes last (none: first), which is
// what an optimal cache does. Without announcements, the least recently used window goes.
#pragma once
#include <future>
#include <map>
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
  // A read of this range is coming, after those announced before it; the read() of the same
  // range counts it off. Reads announced but never made (a file that failed) stop counting
  // once reads announced several thousand later have been made.
  void expect(const std::string& pack, uint64_t offset, uint64_t length);
  // Drops every announcement (the reader is done).
  void forget_expected();

 private:
  using Key = std::pair<std::string, uint64_t>;  // pack, window index
  struct Window {
    std::string pack;
    uint64_t index;  // covers [index * window, (index + 1) * window)
    std::shared_future<Buffer> data;
    uint64_t last_use;
  };
  struct Expected {  // a window's announced reads: order number and offset, earliest first
    std::vector<std::pair<uint64_t, uint64_t>> reads;
    size_t done = 0;  // the reads before this one are made (or given up)
  };
  // When the window's next announced read comes (UINT64_MAX: none). mu_ held.
  uint64_t next_use(const Window& w);
  // Counts off the announced read at `offset` in window `index`. mu_ held.
  void consume(const std::string& pack, uint64_t index, uint64_t offset);
  // Moves `done` past made and stale reads; erases the entry once none is left (returns false).
  bool settle(std::map<Key, Expected>::iterator it);
  // The window's bytes (shorter at the end of the pack), from memory or fetched now.
  Buffer window(const std::string& pack, uint64_t index);

  const Backend& backend_;
  uint64_t window_;
  size_t slots_;
  std::mutex mu_;
  std::vector<Window> windows_;
  std::map<Key, Expected> expected_;
  uint64_t expectations_ = 0;
  uint64_t frontier_ = 0;  // the latest order number read
  uint64_t clock_ = 0;
};

}  // namespace arca
