#include "sources/common/tar_reader.h"

#include <algorithm>
#include <cstring>

#include "util/error.h"

namespace arca {

static std::string field(const uint8_t* p, size_t n) {
  size_t len = 0;
  while (len < n && p[len]) len++;
  return std::string(reinterpret_cast<const char*>(p), len);
}

// Octal, space/NUL terminated; or base-256 (high bit of the first byte set) for big values.
static uint64_t number(const uint8_t* p, size_t n, const std::string& what) {
  if (p[0] & 0x80) {
    uint64_t v = p[0] & 0x7f;
    for (size_t i = 1; i < n; i++) v = (v << 8) | p[i];
    return v;
  }
  uint64_t v = 0;
  size_t i = 0;
  while (i < n && p[i] == ' ') i++;
  for (; i < n && p[i] >= '0' && p[i] <= '7'; i++) v = v * 8 + uint64_t(p[i] - '0');
  if (i < n && p[i] != ' ' && p[i] != 0) throw Error(ErrorKind::Corrupt, what + ": malformed number in a tar header");
  return v;
}

void TarReader::header() {
  bool zero = std::all_of(hdr_, hdr_ + 512, [](uint8_t b) { return b == 0; });
  if (zero) {
    ended_ = true;  // end-of-archive marker (two zero blocks; the rest is ignored)
    return;
  }
  uint64_t sum = 0;
  for (size_t i = 0; i < 512; i++) sum += (i >= 148 && i < 156) ? ' ' : hdr_[i];
  if (sum != number(hdr_ + 148, 8, what_))
    throw Error(ErrorKind::Corrupt, what_ + ": tar header checksum mismatch (the stream is damaged)");
  TarEntry e;
  std::string name = field(hdr_, 100);
  if (std::memcmp(hdr_ + 257, "ustar", 5) == 0) {
    std::string prefix = field(hdr_ + 345, 155);
    if (!prefix.empty()) name = prefix + "/" + name;
  }
  if (!long_name_.empty()) name = std::move(long_name_);
  long_name_.clear();
  while (name.size() > 1 && name.back() == '/') name.pop_back();
  while (name.rfind("./", 0) == 0) name.erase(0, 2);
  e.path = name;
  e.mode = uint32_t(number(hdr_ + 100, 8, what_)) & 07777;
  e.uid = uint32_t(number(hdr_ + 108, 8, what_));
  e.gid = uint32_t(number(hdr_ + 116, 8, what_));
  e.size = number(hdr_ + 124, 12, what_);
  e.mtime = int64_t(number(hdr_ + 136, 12, what_));
  e.link_target = field(hdr_ + 157, 100);
  e.user = field(hdr_ + 265, 32);
  e.group = field(hdr_ + 297, 32);
  char type = char(hdr_[156]);
  pad_left_ = (512 - e.size % 512) % 512;
  data_left_ = e.size;
  switch (type) {
    case '0': case '\0': case '7': e.type = TarEntry::Type::File; break;
    case '5': e.type = TarEntry::Type::Dir; data_left_ = pad_left_ = 0; break;
    case '2': e.type = TarEntry::Type::Symlink; data_left_ = pad_left_ = 0; break;
    case 'L':
      if (e.size > 65536) throw Error(ErrorKind::Corrupt, what_ + ": tar long name too long");
      reading_long_name_ = true;
      return;
    default:
      throw Error(ErrorKind::Corrupt, what_ + ": unsupported tar entry type '" + std::string(1, type) + "' for " + name);
  }
  cur_ = e;
  if (cb_.begin) cb_.begin(cur_);
  if (e.type == TarEntry::Type::File) {
    in_file_ = true;
    if (data_left_ == 0) {
      in_file_ = false;
      if (cb_.end) cb_.end();
    }
  }
}

void TarReader::feed(ByteView data) {
  size_t pos = 0;
  while (pos < data.size()) {
    if (ended_) return;
    if (data_left_ > 0) {
      size_t n = size_t(std::min<uint64_t>(data_left_, data.size() - pos));
      if (reading_long_name_) long_name_.append(reinterpret_cast<const char*>(data.data() + pos), n);
      else if (cb_.data) cb_.data(ByteView(data.data() + pos, n));
      pos += n;
      data_left_ -= n;
      if (data_left_ == 0) {
        if (reading_long_name_) {
          reading_long_name_ = false;
          while (!long_name_.empty() && long_name_.back() == '\0') long_name_.pop_back();
        } else if (in_file_) {
          in_file_ = false;
          if (cb_.end) cb_.end();
        }
      }
      continue;
    }
    if (pad_left_ > 0) {
      size_t n = size_t(std::min<uint64_t>(pad_left_, data.size() - pos));
      pos += n;
      pad_left_ -= n;
      continue;
    }
    size_t n = std::min(512 - hdr_have_, data.size() - pos);
    std::memcpy(hdr_ + hdr_have_, data.data() + pos, n);
    hdr_have_ += n;
    pos += n;
    if (hdr_have_ == 512) {
      hdr_have_ = 0;
      header();
    }
  }
}

void TarReader::finish() const {
  if (data_left_ > 0 || pad_left_ > 0 || hdr_have_ > 0 || reading_long_name_)
    throw Error(ErrorKind::Corrupt, what_ + ": the archive stream ended in the middle of an entry");
}

}  // namespace arca
