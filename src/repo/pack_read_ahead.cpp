#include "repo/pack_read_ahead.h"

#include <algorithm>

namespace arca {

PackReadAhead::PackReadAhead(const Backend& backend, uint64_t window, size_t slots)
    : backend_(backend), window_(window), slots_(std::max<size_t>(1, slots)) {}

Bytes PackReadAhead::read(const std::string& pack, uint64_t offset, uint64_t length) {
  if (length > window_) return backend_.get_range(pack, offset, length);
  Data data;
  uint64_t start = offset;
  std::promise<std::shared_ptr<const Bytes>> fetch;
  bool mine = false;
  {
    std::lock_guard lk(mu_);
    auto hit = std::find_if(windows_.begin(), windows_.end(), [&](const Window& w) {
      return w.pack == pack && w.start <= offset && offset + length <= w.start + window_;
    });
    if (hit != windows_.end()) {
      hit->last_use = ++clock_;
      data = hit->data;
      start = hit->start;
    } else {
      if (windows_.size() >= slots_)
        windows_.erase(std::min_element(windows_.begin(), windows_.end(),
                                        [](const Window& a, const Window& b) { return a.last_use < b.last_use; }));
      data = fetch.get_future().share();
      windows_.push_back({pack, offset, data, ++clock_});
      mine = true;
    }
  }
  if (mine) {
    try {
      fetch.set_value(std::make_shared<const Bytes>(backend_.get_range_upto(pack, offset, window_)));
    } catch (...) {
      fetch.set_exception(std::current_exception());
      std::lock_guard lk(mu_);  // a failed fetch is not cached: the next reader tries again
      std::erase_if(windows_, [&](const Window& w) { return w.pack == pack && w.start == offset; });
    }
  }
  std::shared_ptr<const Bytes> buf = data.get();
  uint64_t from = offset - start;
  // Shorter than wanted: the pack ends early, which get_range reports precisely.
  if (buf->size() < from + length) return backend_.get_range(pack, offset, length);
  return Bytes(buf->begin() + long(from), buf->begin() + long(from + length));
}

}  // namespace arca
