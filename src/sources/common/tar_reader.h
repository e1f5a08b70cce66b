// An incremental reader for the ustar archives database servers stream (PostgreSQL's
// BASE_BACKUP): bytes are pushed in as they arrive, entries come out through callbacks, so an
// archive of any size passes through without being stored.
//
// Supported: regular files, directories, symlinks, the ustar name prefix, GNU long names ('L'),
// base-256 sizes. Other entry types are refused with the entry's name.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "util/bytes.h"

namespace arca {

struct TarEntry {
  enum class Type { File, Dir, Symlink } type = Type::File;
  std::string path;  // as in the archive, without a trailing '/'
  std::string link_target;
  uint32_t mode = 0;
  uint32_t uid = 0, gid = 0;
  std::string user, group;
  int64_t mtime = 0;  // seconds
  uint64_t size = 0;
};

class TarReader {
 public:
  struct Callbacks {
    std::function<void(const TarEntry&)> begin;  // every entry
    std::function<void(ByteView)> data;          // file content, in order
    std::function<void()> end;                   // after a file's last byte
  };
  TarReader(std::string what, Callbacks cb) : what_(std::move(what)), cb_(std::move(cb)) {}
  void feed(ByteView data);
  // Throws Error(Corrupt) if the archive stopped inside an entry.
  void finish() const;

 private:
  void header();
  std::string what_;
  Callbacks cb_;
  uint8_t hdr_[512];
  size_t hdr_have_ = 0;
  uint64_t data_left_ = 0, pad_left_ = 0;
  bool in_file_ = false, ended_ = false;
  std::string long_name_;
  bool reading_long_name_ = false;
  TarEntry cur_;
};

}  // namespace arca
