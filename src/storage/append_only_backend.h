// A backend as seen through an append-only key: every read and every new object passes, but
// nothing can be deleted or replaced. Hosts that are backed up get such keys, so a compromised
// host cannot destroy its own history (docs/security.md). On object stores the same rule
// belongs in the credentials too (a policy without s3:DeleteObject): then the store enforces it.
#pragma once
#include <memory>

#include "storage/backend.h"
#include "util/error.h"

namespace arca {

class AppendOnlyBackend : public Backend {
 public:
  AppendOnlyBackend(std::unique_ptr<Backend> inner, std::string key_id)
      : inner_(std::move(inner)), key_id_(std::move(key_id)) {}

  std::string location() const override { return inner_->location(); }
  bool exists() const override { return inner_->exists(); }
  void create() override { inner_->create(); }
  void put(const std::string& name, ByteView) override { refuse("replace", name); }
  bool put_if_absent(const std::string& name, ByteView data) override { return inner_->put_if_absent(name, data); }
  bool atomic_put_if_absent() override { return inner_->atomic_put_if_absent(); }
  Bytes get(const std::string& name) const override { return inner_->get(name); }
  Bytes get_range_upto(const std::string& name, uint64_t offset, uint64_t length) const override {
    return inner_->get_range_upto(name, offset, length);
  }
  std::optional<ObjectInfo> stat(const std::string& name) const override { return inner_->stat(name); }
  void list(const std::string& prefix, const std::function<void(const ObjectInfo&)>& fn) const override {
    inner_->list(prefix, fn);
  }
  void remove(const std::string& name) override { refuse("delete", name); }
  std::string staging_dir() override { return inner_->staging_dir(); }
  // Packs: their names are hashes over fresh random nonces, so a new pack never has an old name.
  void put_file(const std::string& name, const std::string& path) override { inner_->put_file(name, path); }
  bool staged_files_become_objects() const override { return inner_->staged_files_become_objects(); }
  unsigned parallelism() const override { return inner_->parallelism(); }
  // Locking only adds protection: allowed.
  bool supports_object_lock() const override { return inner_->supports_object_lock(); }
  void lock_object(const std::string& name, const StoreLock& lock) override { inner_->lock_object(name, lock); }

 private:
  [[noreturn]] void refuse(const char* what, const std::string& name) const {
    throw Error(ErrorKind::Refused, "cannot " + std::string(what) + " " + name + ": the repository was opened with " +
                                        "append-only key " + key_id_.substr(0, 8) +
                                        ", which adds recovery points but " +
                                        "never deletes or replaces anything; use an operator's key");
  }
  std::unique_ptr<Backend> inner_;
  std::string key_id_;
};

}  // namespace arca
