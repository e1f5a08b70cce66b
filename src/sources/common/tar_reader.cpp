#include "sources/common/tar_reader.h"

#include <algorithm>
#include <cstring>

#include "util/error.h"

namespace arca {

namespace {

std::string field(const uint8_t* p, size_t n) {
  size_t len = 0;
  while (len < n && p[len]) len++;
  return std::string(reinterpret_cast<const char*>(p), len);
}

// A tar number: octal, space/NUL terminated; or base-256 (first byte 0x80 positive, 0xff
// negative, two's complement) for big values. `over` is +1/-1 when the value does not fit an
// int64 (the result is then saturated); the caller decides whether that is damage.
struct TarNumber {
  int64_t v = 0;
  int over = 0;
};

TarNumber number(const uint8_t* p, size_t n, bool* malformed) {
  TarNumber r;
  if (p[0] & 0x80) {
    bool negative = p[0] & 0x40;
    // The magnitude (for a negative number, of -(v + 1), i.e. of the complemented bytes).
    uint64_t m = negative ? uint8_t(~p[0]) & 0x3f : p[0] & 0x3f;
    for (size_t i = 1; i < n; i++) {
      if (m > (UINT64_MAX >> 8)) {
        r.over = negative ? -1 : 1;
        break;
      }
      m = (m << 8) | (negative ? uint8_t(~p[i]) : p[i]);
    }
    if (!r.over && m > uint64_t(INT64_MAX)) r.over = negative ? -1 : 1;
    if (r.over)
      r.v = r.over > 0 ? INT64_MAX : INT64_MIN;
    else
      r.v = negative ? -int64_t(m) - 1 : int64_t(m);
    return r;
  }
  uint64_t v = 0;
  size_t i = 0;
  while (i < n && p[i] == ' ') i++;
  // At most 12 octal digits (36 bits) fit in any field: no overflow.
  for (; i < n && p[i] >= '0' && p[i] <= '7'; i++) v = v * 8 + uint64_t(p[i] - '0');
  if (i < n && p[i] != ' ' && p[i] != 0) *malformed = true;
  r.v = int64_t(v);
  return r;
}

// A NUL-terminated name from an extension's data (GNU writes the name and a NUL).
std::string until_nul(const std::string& s) { return s.substr(0, std::min(s.find('\0'), s.size())); }

}  // namespace

void TarReader::bad(const std::string& why) const {
  throw Error(ErrorKind::Corrupt, what_ + ": the tar entry at byte " + std::to_string(entry_at_) + " " + why);
}

void TarReader::header() {
  bool zero = std::all_of(hdr_, hdr_ + 512, [](uint8_t b) { return b == 0; });
  if (zero) {
    ended_ = true;  // end-of-archive marker (two zero blocks; the rest is ignored)
    return;
  }
  bool malformed = false;
  auto num = [&](size_t off, size_t len) { return number(hdr_ + off, len, &malformed); };
  uint64_t sum = 0;
  for (size_t i = 0; i < 512; i++) sum += (i >= 148 && i < 156) ? ' ' : hdr_[i];
  TarNumber stored = num(148, 8);
  if (malformed || stored.over || uint64_t(stored.v) != sum)
    throw Error(ErrorKind::Corrupt, what_ + ": tar header checksum mismatch at byte " + std::to_string(entry_at_) +
                                        " (the stream is damaged)");
  std::string name = field(hdr_, 100);
  if (std::memcmp(hdr_ + 257, "ustar", 5) == 0) {
    std::string prefix = field(hdr_ + 345, 155);
    if (!prefix.empty()) name = prefix + "/" + name;
  }
  char type = char(hdr_[156]);
  TarNumber size = num(124, 12);
  if (size.over || size.v < 0) bad("('" + name + "') declares an impossible size");
  uint64_t declared = uint64_t(size.v);

  // Header extensions: their data describes the next entry. Bounded before anything is read
  // (see docs/security.md, "Tar streams").
  if (type == 'L' || type == 'K' || type == 'x') {
    if (malformed) bad("('" + name + "') has a malformed number in its header");
    const char* kind = type == 'L'   ? "a GNU long name ('L')"
                       : type == 'K' ? "a GNU long link target ('K')"
                                     : "a pax extended header ('x')";
    uint64_t limit = type == 'x' ? kMaxTarPaxHeader : kMaxTarName + 1;  // + 1: the terminating NUL
    if (declared > limit)
      bad("is " + std::string(kind) + " of " + std::to_string(declared) + " bytes; more than " + std::to_string(limit) +
          " bytes is refused (names are limited to " + std::to_string(kMaxTarName) + " bytes)");
    if (declared == 0 && type != 'x') bad("is " + std::string(kind) + " of 0 bytes: the stream is damaged");
    meta_ = type == 'L' ? Meta::LongName : type == 'K' ? Meta::LongLink : Meta::Pax;
    meta_buf_.clear();
    data_left_ = declared;
    pad_left_ = (512 - declared % 512) % 512;
    if (declared == 0) meta_done();
    return;
  }

  TarEntry e;
  if (have_name_) name = std::move(long_name_);
  while (name.size() > 1 && name.back() == '/') name.pop_back();
  while (name.rfind("./", 0) == 0) name.erase(0, 2);
  e.path = name;
  if (malformed) bad("('" + name + "') has a malformed number in its header");
  e.mode = uint32_t(num(100, 8).v) & 07777;
  TarNumber uid = num(108, 8), gid = num(116, 8);
  if (uid.over || gid.over || uid.v < 0 || gid.v < 0 || uid.v > int64_t(UINT32_MAX) || gid.v > int64_t(UINT32_MAX))
    bad("('" + name + "') declares an impossible owner");
  e.uid = uint32_t(uid.v);
  e.gid = uint32_t(gid.v);
  e.size = have_size_ ? pax_size_ : declared;
  // Clamped, not refused: a file's odd mtime on a genuine server must not fail the backup,
  // and the clamped value still converts to nanoseconds without overflow.
  e.mtime = std::clamp(num(136, 12).v, kMinTarMtime, kMaxTarMtime);
  e.link_target = have_link_ ? std::move(long_link_) : field(hdr_ + 157, 100);
  e.user = field(hdr_ + 265, 32);
  e.group = field(hdr_ + 297, 32);
  if (malformed) bad("('" + name + "') has a malformed number in its header");
  have_name_ = have_link_ = have_size_ = false;
  long_name_.clear();
  long_link_.clear();
  pad_left_ = (512 - e.size % 512) % 512;
  data_left_ = e.size;
  switch (type) {
    case '0':
    case '\0':
    case '7':
      e.type = TarEntry::Type::File;
      break;
    case '5':
      e.type = TarEntry::Type::Dir;
      data_left_ = pad_left_ = 0;
      break;
    case '2':
      e.type = TarEntry::Type::Symlink;
      data_left_ = pad_left_ = 0;
      break;
    default:
      throw Error(ErrorKind::Corrupt,
                  what_ + ": unsupported tar entry type '" + std::string(1, type) + "' for " + name);
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

void TarReader::parse_pax() {
  // Records "<length> <key>=<value>\n", the length counting the whole record.
  size_t pos = 0;
  while (pos < meta_buf_.size()) {
    size_t sp = meta_buf_.find(' ', pos);
    if (sp == std::string::npos || sp == pos || sp - pos > 10) bad("has a malformed pax record");
    uint64_t len = 0;
    for (size_t i = pos; i < sp; i++) {
      if (meta_buf_[i] < '0' || meta_buf_[i] > '9') bad("has a malformed pax record");
      len = len * 10 + uint64_t(meta_buf_[i] - '0');
    }
    if (len <= sp + 1 - pos || len > meta_buf_.size() - pos || meta_buf_[pos + len - 1] != '\n')
      bad("has a malformed pax record");
    std::string rec = meta_buf_.substr(sp + 1, pos + len - 1 - (sp + 1));
    pos += len;
    size_t eq = rec.find('=');
    if (eq == std::string::npos) bad("has a malformed pax record");
    std::string key = rec.substr(0, eq), value = rec.substr(eq + 1);
    if (key == "path" || key == "linkpath") {
      if (value.size() > kMaxTarName)
        bad("declares a " + key + " of " + std::to_string(value.size()) + " bytes; names are limited to " +
            std::to_string(kMaxTarName) + " bytes");
      // Names are C strings everywhere else: an embedded NUL would name a different file.
      if (value.find('\0') != std::string::npos) bad("declares a " + key + " holding a NUL byte");
      (key == "path" ? long_name_ : long_link_) = value;
      (key == "path" ? have_name_ : have_link_) = true;
    } else if (key == "size") {
      if (value.empty() || value.size() > 18 || value.find_first_not_of("0123456789") != std::string::npos)
        bad("declares an impossible pax size '" + value.substr(0, 40) + "'");
      pax_size_ = std::stoull(value);
      have_size_ = true;
    }
  }
}

void TarReader::meta_done() {
  switch (meta_) {
    case Meta::LongName:
      long_name_ = until_nul(meta_buf_);
      if (long_name_.empty()) bad("is an empty GNU long name ('L')");
      have_name_ = true;
      break;
    case Meta::LongLink:
      long_link_ = until_nul(meta_buf_);
      have_link_ = true;
      break;
    case Meta::Pax:
      parse_pax();
      break;
    case Meta::None:
      break;
  }
  meta_ = Meta::None;
  meta_buf_.clear();
}

void TarReader::feed(ByteView data) {
  size_t pos = 0;
  while (pos < data.size()) {
    if (ended_) return;
    if (data_left_ > 0) {
      size_t n = size_t(std::min<uint64_t>(data_left_, data.size() - pos));
      // meta_buf_ never exceeds the bound checked in header(): data_left_ started there.
      if (meta_ != Meta::None)
        meta_buf_.append(reinterpret_cast<const char*>(data.data() + pos), n);
      else if (cb_.data)
        cb_.data(ByteView(data.data() + pos, n));
      pos += n;
      offset_ += n;
      data_left_ -= n;
      if (data_left_ == 0) {
        if (meta_ != Meta::None) {
          meta_done();
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
      offset_ += n;
      pad_left_ -= n;
      continue;
    }
    if (hdr_have_ == 0) entry_at_ = offset_;
    size_t n = std::min(512 - hdr_have_, data.size() - pos);
    std::memcpy(hdr_ + hdr_have_, data.data() + pos, n);
    hdr_have_ += n;
    pos += n;
    offset_ += n;
    if (hdr_have_ == 512) {
      hdr_have_ = 0;
      header();
    }
  }
}

void TarReader::finish() const {
  if (data_left_ > 0 || pad_left_ > 0 || hdr_have_ > 0 || meta_ != Meta::None)
    throw Error(ErrorKind::Corrupt, what_ + ": the archive stream ended in the middle of an entry");
  if (have_name_ || have_link_ || have_size_)
    throw Error(ErrorKind::Corrupt, what_ + ": the archive stream ended after a header extension, before its entry");
}

}  // namespace arca
