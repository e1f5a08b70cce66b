// A backend whose writes are held to a rate: a copy to a replica across a link it must share
// (`arca copy --limit-upload`, a replica's `limit-upload` in the server). Reads pass freely.
#pragma once
#include <chrono>
#include <memory>
#include <mutex>

#include "storage/backend.h"
#include "util/job_context.h"

namespace arca {

// Bytes per second, shared by every thread that takes from it, with one second of burst. A
// request larger than a second's worth waits as long as it takes at the rate; `cancel` (if set)
// ends the wait with Error(Cancelled).
class RateLimit {
 public:
  RateLimit(uint64_t bytes_per_s, const CancelToken* cancel) : rate_(double(bytes_per_s)), cancel_(cancel) {}
  void take(uint64_t bytes);

 private:
  using Clock = std::chrono::steady_clock;
  double rate_;
  const CancelToken* cancel_;
  std::mutex mu_;
  Clock::time_point next_{};  // when the bytes taken so far have passed at the rate
};

class RateLimitedBackend : public Backend {
 public:
  RateLimitedBackend(std::unique_ptr<Backend> inner, uint64_t write_bytes_per_s, const CancelToken* cancel = nullptr)
      : inner_(std::move(inner)), limit_(write_bytes_per_s, cancel) {}

  std::string location() const override { return inner_->location(); }
  bool exists() const override { return inner_->exists(); }
  void create() override { inner_->create(); }
  void put(const std::string& name, ByteView data) override {
    limit_.take(data.size());
    inner_->put(name, data);
  }
  bool put_if_absent(const std::string& name, ByteView data) override {
    limit_.take(data.size());
    return inner_->put_if_absent(name, data);
  }
  bool atomic_put_if_absent() override { return inner_->atomic_put_if_absent(); }
  Bytes get(const std::string& name) const override { return inner_->get(name); }
  Bytes get_range_upto(const std::string& name, uint64_t offset, uint64_t length) const override {
    return inner_->get_range_upto(name, offset, length);
  }
  std::optional<ObjectInfo> stat(const std::string& name) const override { return inner_->stat(name); }
  void list(const std::string& prefix, const std::function<void(const ObjectInfo&)>& fn) const override {
    inner_->list(prefix, fn);
  }
  void remove(const std::string& name) override { inner_->remove(name); }
  std::string staging_dir() override { return inner_->staging_dir(); }
  void put_file(const std::string& name, const std::string& path) override;
  bool staged_files_become_objects() const override { return inner_->staged_files_become_objects(); }
  unsigned parallelism() const override { return inner_->parallelism(); }
  bool supports_object_lock() const override { return inner_->supports_object_lock(); }
  void lock_object(const std::string& name, const StoreLock& lock) override { inner_->lock_object(name, lock); }

 private:
  std::unique_ptr<Backend> inner_;
  RateLimit limit_;
};

}  // namespace arca
