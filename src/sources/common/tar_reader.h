// An incremental reader for the ustar archives database servers stream (PostgreSQL's
// BASE_BACKUP): bytes are pushed in as they arrive, entries come out through callbacks, so an
// archive of any size passes through without being stored.
//
// Supported: regular files, directories, symlinks, the ustar name prefix, GNU long names and
// link targets ('L', 'K'), pax extended headers ('x': path, linkpath, size), base-256 numbers.
// Other entry types are refused with the entry's name.
//
// The archive comes from a server Arca does not control (see docs/security.md, "Tar streams"):
// names and link targets are limited to kMaxTarName bytes, pax headers to kMaxTarPaxHeader, so
// memory stays bounded whatever the stream declares; mtimes are clamped to what nanoseconds in
// an int64 can hold.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "util/bytes.h"

namespace arca {

// PATH_MAX: no file system takes a longer path, so a longer name is damage (or hostile).
constexpr size_t kMaxTarName = 4096;
// A pax extended header ('x') holding more is refused: path and linkpath are its only big records.
constexpr uint64_t kMaxTarPaxHeader = 64 * 1024;
// Tar mtimes (seconds) are clamped to this range, so that mtime * 1'000'000'000 fits an int64
// (1677-09-21 … 2262-04-11).
constexpr int64_t kMaxTarMtime = INT64_MAX / 1'000'000'000;
constexpr int64_t kMinTarMtime = -kMaxTarMtime;

struct TarEntry {
  enum class Type { File, Dir, Symlink } type = Type::File;
  std::string path;  // as in the archive, without a trailing '/'
  std::string link_target;
  uint32_t mode = 0;
  uint32_t uid = 0, gid = 0;
  std::string user, group;
  int64_t mtime = 0;  // seconds, within [kMinTarMtime, kMaxTarMtime]
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
  // Throws Error(Corrupt) naming the archive and the entry's byte offset for damaged or hostile input.
  void feed(ByteView data);
  // Throws Error(Corrupt) if the archive stopped inside an entry.
  void finish() const;

 private:
  // What the data of the current entry is: a file's content, or a header extension for the next entry.
  enum class Meta { None, LongName, LongLink, Pax };
  void header();
  void meta_done();
  void parse_pax();
  [[noreturn]] void bad(const std::string& why) const;
  std::string what_;
  Callbacks cb_;
  uint8_t hdr_[512];
  size_t hdr_have_ = 0;
  uint64_t data_left_ = 0, pad_left_ = 0;
  uint64_t offset_ = 0, entry_at_ = 0;  // bytes consumed; where the current header began
  bool in_file_ = false, ended_ = false;
  Meta meta_ = Meta::None;
  std::string meta_buf_;               // the extension's data, at most kMaxTarPaxHeader bytes
  std::string long_name_, long_link_;  // for the next entry ('L', 'K', pax path/linkpath)
  bool have_name_ = false, have_link_ = false, have_size_ = false;
  uint64_t pax_size_ = 0;
  TarEntry cur_;
};

}  // namespace arca
