// A repository held in memory, for tests (LevelDB's memenv, Kopia's blobtesting map storage):
// thread-safe, every write atomic, and optionally a store with per-object locks (S3 Object Lock)
// that refuses to delete or replace a locked object until its retention ends.
#pragma once
#include <map>
#include <mutex>

#include "storage/backend.h"

namespace arca {

class MemoryBackend : public Backend {
 public:
  struct Options {
    bool object_lock = false;       // supports_object_lock(); locked objects refuse remove/put
    bool atomic_create = true;      // atomic_put_if_absent()
    unsigned parallelism = 4;       // what callers are told to keep in flight
    std::string location = "mem:";  // for messages
  };
  MemoryBackend() : MemoryBackend(Options{}) {}
  explicit MemoryBackend(Options opts);
  ~MemoryBackend() override;

  std::string location() const override { return opts_.location; }
  bool exists() const override;
  void create() override;
  void put(const std::string& name, ByteView data) override;
  bool put_if_absent(const std::string& name, ByteView data) override;
  bool atomic_put_if_absent() override { return opts_.atomic_create; }
  Bytes get(const std::string& name) const override;
  Bytes get_range_upto(const std::string& name, uint64_t offset, uint64_t length) const override;
  std::optional<ObjectInfo> stat(const std::string& name) const override;
  void list(const std::string& prefix, const std::function<void(const ObjectInfo&)>& fn) const override;
  void remove(const std::string& name) override;
  // A private temporary directory, removed with the backend; put_file() reads the file in.
  std::string staging_dir() override;
  void put_file(const std::string& name, const std::string& path) override;
  unsigned parallelism() const override { return opts_.parallelism; }
  bool supports_object_lock() const override { return opts_.object_lock; }
  void lock_object(const std::string& name, const StoreLock& lock) override;

  // For tests: a copy of the current state (objects share their immutable bytes), e.g. to
  // restart from the same repository many times.
  std::shared_ptr<MemoryBackend> clone() const;
  // For tests: the store lock applied to `name` last, if any; how many objects are stored.
  std::optional<StoreLock> store_lock(const std::string& name) const;
  size_t object_count() const;
  // For tests that damage a repository: replaces an object's bytes without any check.
  void overwrite_raw(const std::string& name, ByteView data);

 private:
  void refuse_if_locked(const std::string& name, const char* what) const;  // mu_ held

  Options opts_;
  mutable std::mutex mu_;
  bool created_ = false;
  // Objects are shared, immutable byte strings: a reader copies outside the lock.
  std::map<std::string, std::shared_ptr<const Bytes>> objects_;
  std::map<std::string, StoreLock> locks_;
  std::string staging_;
};

}  // namespace arca
