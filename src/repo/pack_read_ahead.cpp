#include "repo/pack_read_ahead.h"

#include <algorithm>
#include <chrono>
#include <cstring>

namespace arca {

PackReadAhead::PackReadAhead(const Backend& backend, uint64_t window, size_t slots)
    : backend_(backend), window_(window), slots_(std::max<size_t>(2, slots)) {}

PackReadAhead::Buffer PackReadAhead::window(const std::string& pack, uint64_t index) {
  std::shared_future<Buffer> data;
  std::promise<Buffer> fetch;
  bool mine = false;
  {
    std::lock_guard lk(mu_);
    auto hit = std::find_if(windows_.begin(), windows_.end(),
                            [&](const Window& w) { return w.index == index && w.pack == pack; });
    if (hit != windows_.end()) {
      hit->last_use = ++clock_;
      data = hit->data;
    } else {
      // Evict the complete window used last (one still being fetched has readers waiting for
      // it, so the cache may briefly exceed `slots_`); of equals, the least recently used.
      auto victim = windows_.end();
      uint64_t victim_next = 0;
      if (windows_.size() >= slots_)
        for (auto it = windows_.begin(); it != windows_.end(); ++it) {
          if (it->data.wait_for(std::chrono::seconds(0)) != std::future_status::ready) continue;
          uint64_t next = next_use(*it);
          if (victim == windows_.end() || next > victim_next ||
              (next == victim_next && it->last_use < victim->last_use)) {
            victim = it;
            victim_next = next;
          }
        }
      if (victim != windows_.end()) windows_.erase(victim);
      data = fetch.get_future().share();
      windows_.push_back({pack, index, data, ++clock_});
      mine = true;
    }
  }
  if (mine) {
    try {
      fetch.set_value(std::make_shared<const Bytes>(backend_.get_range_upto(pack, index * window_, window_)));
    } catch (...) {
      fetch.set_exception(std::current_exception());
      std::lock_guard lk(mu_);  // a failed fetch is not kept: the next reader tries again
      std::erase_if(windows_, [&](const Window& w) { return w.index == index && w.pack == pack; });
    }
  }
  return data.get();
}

PackReadAhead::Slice PackReadAhead::Slice::own(Bytes bytes) {
  auto owner = std::make_shared<const Bytes>(std::move(bytes));
  return {owner, *owner};
}

namespace {
constexpr uint64_t kMade = UINT64_MAX;
// An announced read this far behind the latest one made will not be made: its file failed. (The
// writers make reads in about the order they were announced; a few hundred apart at most.)
constexpr uint64_t kStale = 4096;
// How far into a window's announcements a read looks for its own (a shared blob can be announced
// many times; a read never announced looks no further).
constexpr size_t kScan = 1024;
}  // namespace

bool PackReadAhead::settle(std::map<Key, Expected>::iterator it) {
  Expected& e = it->second;
  while (e.done < e.reads.size() && (e.reads[e.done].first == kMade || e.reads[e.done].first + kStale < frontier_))
    e.done++;
  if (e.done == e.reads.size()) {
    expected_.erase(it);
    return false;
  }
  if (e.done >= 64 && 2 * e.done >= e.reads.size()) {  // memory stays proportional to what is pending
    e.reads.erase(e.reads.begin(), e.reads.begin() + long(e.done));
    e.done = 0;
  }
  return true;
}

uint64_t PackReadAhead::next_use(const Window& w) {
  auto it = expected_.find({w.pack, w.index});
  if (it == expected_.end() || !settle(it)) return UINT64_MAX;
  return it->second.reads[it->second.done].first;
}

void PackReadAhead::consume(const std::string& pack, uint64_t index, uint64_t offset) {
  auto it = expected_.find({pack, index});
  if (it == expected_.end()) return;
  Expected& e = it->second;
  for (size_t k = e.done; k < e.reads.size() && k < e.done + kScan; k++)
    if (e.reads[k].first != kMade && e.reads[k].second == offset) {
      frontier_ = std::max(frontier_, e.reads[k].first);
      e.reads[k].first = kMade;
      break;
    }
  settle(it);
}

void PackReadAhead::expect(const std::string& pack, uint64_t offset, uint64_t length) {
  if (length == 0) return;
  std::lock_guard lk(mu_);
  uint64_t order = expectations_++;
  for (uint64_t i = offset / window_; i <= (offset + length - 1) / window_; i++)
    expected_[{pack, i}].reads.emplace_back(order, offset);
}

void PackReadAhead::forget_expected() {
  std::lock_guard lk(mu_);
  expected_.clear();
}

PackReadAhead::Slice PackReadAhead::read(const std::string& pack, uint64_t offset, uint64_t length) {
  if (length == 0) return {};
  // Each window's announcement is counted off once the window is at hand: before, the window
  // would look unneeded and could be evicted while this read fetches its neighbour.
  auto fetched = [&](uint64_t i) {
    Buffer w = window(pack, i);
    std::lock_guard lk(mu_);
    consume(pack, i, offset);
    return w;
  };
  uint64_t first = offset / window_;
  if ((offset + length - 1) / window_ == first) {
    Buffer w = fetched(first);
    uint64_t from = offset - first * window_;
    // Shorter than wanted: the pack ends early, which get_range reports precisely.
    if (w->size() < from + length) return Slice::own(backend_.get_range(pack, offset, length));
    return {w, ByteView(w->data() + from, length)};
  }
  Bytes out(length);
  uint64_t done = 0;
  for (uint64_t i = first; done < length; i++) {
    Buffer w = fetched(i);
    uint64_t from = offset + done - i * window_;
    uint64_t n = std::min<uint64_t>(length - done, window_ - from);
    if (w->size() < from + n) return Slice::own(backend_.get_range(pack, offset, length));
    std::memcpy(out.data() + done, w->data() + from, n);
    done += n;
  }
  return Slice::own(std::move(out));
}

}  // namespace arca
