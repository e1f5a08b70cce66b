// Where a repository's objects live. A backend stores opaque, immutable objects by name
// ("data/ab/abcd…", "snapshots/…"); it knows nothing of packs, keys or snapshots.
// Every write is atomic: an object is either absent or complete, never partial.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "util/bytes.h"

namespace arca {

struct ObjectInfo {
  std::string name;
  uint64_t size = 0;
};

// Store-level immutability for one object (S3 Object Lock): a retention period in governance or
// compliance mode, or a legal hold.
struct StoreLock {
  enum class Mode { Governance, Compliance, LegalHold } mode = Mode::Governance;
  int64_t until_unix = 0;  // retention modes
};

class Backend {
 public:
  virtual ~Backend() = default;

  // Human-readable location, used in messages.
  virtual std::string location() const = 0;
  // True if the repository root exists (used by init/open to give clear errors).
  virtual bool exists() const = 0;
  // Creates the root if needed (init only).
  virtual void create() = 0;

  // Stores `data` under `name`, replacing any existing object; durable when it returns.
  virtual void put(const std::string& name, ByteView data) = 0;
  // Stores `data` only if `name` does not exist; returns false (and stores nothing) if it does.
  virtual bool put_if_absent(const std::string& name, ByteView data) = 0;
  // True if put_if_absent() is atomic: of two concurrent writers of one name, one gets false.
  // Stores without conditional writes (Swift, Ceph RGW versioned buckets) check, then write.
  virtual bool atomic_put_if_absent() { return true; }
  // Whole object; throws Error(NotFound) if absent.
  virtual Bytes get(const std::string& name) const = 0;
  // Up to `length` bytes at `offset`, fewer if the object ends sooner (for reading ahead).
  virtual Bytes get_range_upto(const std::string& name, uint64_t offset, uint64_t length) const = 0;
  // Exactly `length` bytes at `offset`; throws Error(Corrupt) if the object is shorter.
  Bytes get_range(const std::string& name, uint64_t offset, uint64_t length) const;
  virtual std::optional<ObjectInfo> stat(const std::string& name) const = 0;
  // Calls `fn` for every object whose name starts with `prefix` (a directory-like prefix
  // ending in '/'), in no particular order.
  virtual void list(const std::string& prefix, const std::function<void(const ObjectInfo&)>& fn) const = 0;
  virtual void remove(const std::string& name) = 0;

  // Large objects (packs) are assembled in a local staging file, then handed over whole, so
  // memory does not grow with the object size. staging_dir() is a local directory for them;
  // put_file() stores the file's contents under `name` (durably) and removes the file.
  virtual std::string staging_dir() = 0;
  virtual void put_file(const std::string& name, const std::string& path) = 0;
  // True if put_file() keeps the staging file as the object (a rename), false if it reads the
  // file back to send it elsewhere: staging then belongs in the page cache.
  virtual bool staged_files_become_objects() const { return false; }

  // How many transfers callers should keep in flight at once (object stores hide latency
  // behind parallelism; a local disk needs little).
  virtual unsigned parallelism() const { return 1; }

  // Stores with per-object locks (S3 Object Lock) apply `lock` to an existing object; the store
  // then refuses to delete or overwrite that object version until it expires or is released.
  virtual bool supports_object_lock() const { return false; }
  virtual void lock_object(const std::string& name, const StoreLock& lock);
};

// Backend settings given as `-o key=value` (e.g. "s3.region" → "eu-west-1").
using BackendOptions = std::map<std::string, std::string>;

// Opens a backend for a repository location: a local path, or s3:http[s]://host/bucket[/prefix].
std::unique_ptr<Backend> open_backend(const std::string& location, const BackendOptions& options = {});

}  // namespace arca
