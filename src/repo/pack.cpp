#include "repo/pack.h"

#include <cstring>

#include <algorithm>
#include "crypto/hash.h"
#include "repo/decode_guard.h"
#include "repo/envelope.h"
#include "repo/object_names.h"
#include "util/error.h"
#include "util/io.h"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace arca {

static const char kPackMagic[8] = {'A', 'R', 'C', 'A', 'P', 'C', 'K', '1'};

const std::string& pack_dir(BlobType type) { return names::pack_prefix(type); }

std::string pack_name(BlobType type, const Id& pack_id) { return names::pack(type, pack_id); }

// Packs are written around the page cache (O_DIRECT) where the filesystem allows: a backup
// does not evict the machine's working set, and the final fsync has almost nothing left to do.
static constexpr size_t kFlushBytes = 4 << 20;

PackBuilder::PackBuilder(BlobType type, std::string staging_path, uint64_t expected_size, bool around_cache)
    : type_(type), path_(std::move(staging_path)) {
  if (around_cache) fd_ = UniqueFd(::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_DIRECT, 0600));
  direct_ = fd_.valid();
  if (!fd_) fd_ = UniqueFd(::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd_) throw_errno("create staging file", path_, errno);
  // Best effort: filesystems without fallocate just allocate as they write.
  (void)::fallocate(fd_.get(), FALLOC_FL_KEEP_SIZE, 0, off_t(expected_size));
  buf_.reserve(kFlushBytes + (8 << 20));
}

void PackBuilder::write_out(bool final) {
  size_t n = final ? align_up(buffered_) : align_down(buffered_);
  if (n == 0) return;
  if (final && n > buffered_) std::memset(buf_.data() + buffered_, 0, n - buffered_);  // padding, truncated below
  if (direct_) {
    ssize_t w = ::pwrite(fd_.get(), buf_.data(), n, off_t(written_));
    if (w != ssize_t(n)) {
      if (w < 0 && errno != EINVAL) throw_errno("write", path_, errno);
      // Refused (EINVAL) or short (a full disk): finish through the page cache, which either
      // succeeds or reports the real cause.
      size_t done = w > 0 ? size_t(w) : 0;
      direct_ = false;
      int flags = fcntl(fd_.get(), F_GETFL);
      if (fcntl(fd_.get(), F_SETFL, flags & ~O_DIRECT) != 0) throw_errno("reconfigure", path_, errno);
      pwrite_all(fd_.get(), ByteView(buf_.data() + done, n - done), off_t(written_ + done), path_);
    }
  } else {
    pwrite_all(fd_.get(), ByteView(buf_.data(), n), off_t(written_), path_);
  }
  written_ += n;
  size_t rest = final ? 0 : buffered_ - n;
  std::memmove(buf_.data(), buf_.data() + n, rest);
  buffered_ = rest;
}

PackBuilder::~PackBuilder() {
  if (!path_.empty()) ::unlink(path_.c_str());
}

void PackBuilder::add(const Id& id, uint32_t raw_length, ByteView sealed) {
  if (size_ + sealed.size() > UINT32_MAX) throw Error(ErrorKind::Generic, "pack would exceed 4 GiB");
  buf_.grow(buffered_ + sealed.size());
  std::memcpy(buf_.data() + buffered_, sealed.data(), sealed.size());
  buffered_ += sealed.size();
  if (buffered_ >= kFlushBytes) write_out(false);
  blobs_.push_back({id, uint32_t(size_), uint32_t(sealed.size()), raw_length});
  size_ += sealed.size();
}

PackBuilder::Finished PackBuilder::finish(const Keyring& keys) {
  Bytes header(kPackMagic, kPackMagic + 8);
  header.push_back(uint8_t(type_));
  put_u32(header, uint32_t(blobs_.size()));
  for (const auto& b : blobs_) {
    header.insert(header.end(), b.id.b.begin(), b.id.b.end());
    put_u32(header, b.length);
    put_u32(header, b.raw_length);
  }
  Bytes tail = seal(keys, keys.current_version(), header, 3);
  put_u32(tail, uint32_t(tail.size()));
  Id id = sha256(ByteView(tail).first(tail.size() - 4));
  buf_.grow(buffered_ + tail.size() + direct_align());
  std::memcpy(buf_.data() + buffered_, tail.data(), tail.size());
  buffered_ += tail.size();
  size_ += tail.size();
  write_out(true);
  if (::ftruncate(fd_.get(), off_t(size_)) != 0) throw_errno("truncate", path_, errno);  // frees unused preallocation
  fd_.reset();
  Finished f{id, type_, std::move(path_), size_, std::move(blobs_)};
  path_.clear();
  return f;
}

Id pack_id_of(ByteView pack, const std::string& what) {
  if (pack.size() < 4) throw Error(ErrorKind::Corrupt, what + ": too short to be a pack");
  uint32_t hlen = get_u32(pack.data() + pack.size() - 4);
  if (uint64_t(hlen) + 4 > pack.size()) throw Error(ErrorKind::Corrupt, what + ": pack header length is invalid");
  return sha256(pack.subspan(pack.size() - 4 - hlen, hlen));
}

std::vector<PackedBlob> parse_pack_header(const Keyring& keys, ByteView tail, uint64_t pack_size,
                                          const std::string& what, BlobType* type_out) {
  if (tail.size() < 4) throw Error(ErrorKind::Corrupt, what + ": too short to be a pack");
  uint32_t hlen = get_u32(tail.data() + tail.size() - 4);
  if (uint64_t(hlen) + 4 > tail.size() || uint64_t(hlen) + 4 > pack_size)
    throw Error(ErrorKind::Corrupt, what + ": pack header length is invalid");
  std::string header_what = what + " (pack header)";
  return decode_guarded(header_what, [&] {
    Bytes header = unseal(keys, tail.subspan(tail.size() - 4 - hlen, hlen), header_what);
    Reader r(header, header_what);
    ByteView magic = r.take(8);
    if (std::memcmp(magic.data(), kPackMagic, 8) != 0) throw Error(ErrorKind::Corrupt, what + ": bad pack magic");
    uint8_t type = r.u8();
    if (type > 1) throw Error(ErrorKind::Corrupt, what + ": unknown pack type");
    if (type_out) *type_out = BlobType(type);
    // Bounded by the header's bytes before anything is reserved (docs/security.md).
    uint32_t n = r.count(32 + 4 + 4, "blobs");
    std::vector<PackedBlob> out;
    out.reserve(n);
    uint64_t offset = 0;
    uint64_t data_end = pack_size - 4 - hlen;
    for (uint32_t i = 0; i < n; i++) {
      PackedBlob b;
      b.id = r.id();
      b.length = r.u32();
      b.raw_length = r.u32();
      b.offset = uint32_t(offset);
      offset += b.length;
      if (offset > data_end)
        throw Error(ErrorKind::Corrupt, what + ": pack header describes more data than the pack holds");
      out.push_back(b);
    }
    return out;
  });
}

Bytes read_pack_tail(const Backend& backend, const std::string& name, uint64_t pack_size) {
  // Most headers (40 bytes a blob) fit in 64 KiB; a larger one takes a second read.
  uint64_t want = std::min<uint64_t>(pack_size, 64 << 10);
  Bytes tail = backend.get_range(name, pack_size - want, want);
  if (tail.size() < 4) throw Error(ErrorKind::Corrupt, name + ": too short to be a pack");
  uint64_t need = uint64_t(get_u32(tail.data() + tail.size() - 4)) + 4;
  if (need > pack_size) throw Error(ErrorKind::Corrupt, name + ": pack header length is invalid");
  if (need > tail.size()) tail = backend.get_range(name, pack_size - need, need);
  return tail;
}

std::optional<uint32_t> pack_header_key_version(ByteView tail) {
  if (tail.size() < 4) return std::nullopt;
  uint64_t hlen = get_u32(tail.data() + tail.size() - 4);
  if (hlen + 4 > tail.size() || hlen < 5) return std::nullopt;
  return get_u32(tail.data() + tail.size() - 4 - hlen + 1);  // after the envelope's format byte
}

std::optional<std::pair<Id, BlobType>> parse_pack_name(const std::string& name) {
  auto p = names::parse_pack(name);
  if (!p) return std::nullopt;
  return std::make_pair(p->id, p->type);
}

}  // namespace arca
