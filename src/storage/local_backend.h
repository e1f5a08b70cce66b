// A repository in a local directory. Writes go to a temporary file in the target directory,
// are fsynced, then renamed (or hard-linked, for create-if-absent) into place, and the directory
// is fsynced, so no partially written object is ever visible, even after a crash.
#pragma once
#include "storage/backend.h"

namespace arca {

class LocalBackend : public Backend {
 public:
  explicit LocalBackend(std::string root);
  std::string location() const override { return root_; }
  bool exists() const override;
  void create() override;
  void put(const std::string& name, ByteView data) override;
  bool put_if_absent(const std::string& name, ByteView data) override;
  Bytes get(const std::string& name) const override;
  Bytes get_range_upto(const std::string& name, uint64_t offset, uint64_t length) const override;
  std::optional<ObjectInfo> stat(const std::string& name) const override;
  void list(const std::string& prefix, const std::function<void(const ObjectInfo&)>& fn) const override;
  void remove(const std::string& name) override;
  // Staging files live in <root>/tmp/ so that put_file() is a rename on the same filesystem.
  std::string staging_dir() override;
  void put_file(const std::string& name, const std::string& path) override;
  bool staged_files_become_objects() const override { return true; }

 private:
  std::string path(const std::string& name) const;
  // Writes a fsynced temporary file next to `final_path`; returns its path.
  std::string write_temp(const std::string& final_path, ByteView data);
  std::string root_;
};

}  // namespace arca
