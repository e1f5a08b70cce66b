#include "repo/pack.h"

#include <cstring>

#include "crypto/hash.h"
#include "repo/envelope.h"
#include "util/error.h"
#include "util/io.h"

#include <fcntl.h>
#include <unistd.h>
#include <cerrno>

namespace arca {

static const char kPackMagic[8] = {'A', 'R', 'C', 'A', 'P', 'C', 'K', '1'};

const char* pack_dir(BlobType type) { return type == BlobType::Data ? "data/" : "meta/"; }

std::string pack_name(BlobType type, const Id& pack_id) {
  std::string hex = pack_id.hex();
  return pack_dir(type) + hex.substr(0, 2) + "/" + hex;
}

PackBuilder::PackBuilder(BlobType type, std::string staging_path, uint64_t expected_size)
    : type_(type), path_(std::move(staging_path)) {
  fd_ = UniqueFd(::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd_) throw_errno("create staging file", path_, errno);
  // Best effort: filesystems without fallocate just allocate as they write.
  (void)::fallocate(fd_.get(), FALLOC_FL_KEEP_SIZE, 0, off_t(expected_size));
}

PackBuilder::~PackBuilder() {
  if (!path_.empty()) ::unlink(path_.c_str());
}

void PackBuilder::add(const Id& id, uint32_t raw_length, ByteView sealed) {
  if (size_ + sealed.size() > UINT32_MAX) throw Error(ErrorKind::Generic, "pack would exceed 4 GiB");
  write_all(fd_.get(), sealed, path_);
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
  write_all(fd_.get(), tail, path_);
  size_ += tail.size();
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
  if (uint64_t(hlen) + 4 > tail.size()) throw Error(ErrorKind::Corrupt, what + ": pack header length is invalid");
  Bytes header = unseal(keys, tail.subspan(tail.size() - 4 - hlen, hlen), what + " (pack header)");
  Reader r(header, what + " (pack header)");
  ByteView magic = r.take(8);
  if (std::memcmp(magic.data(), kPackMagic, 8) != 0) throw Error(ErrorKind::Corrupt, what + ": bad pack magic");
  uint8_t type = r.u8();
  if (type > 1) throw Error(ErrorKind::Corrupt, what + ": unknown pack type");
  if (type_out) *type_out = BlobType(type);
  uint32_t n = r.u32();
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
    if (offset > data_end) throw Error(ErrorKind::Corrupt, what + ": pack header describes more data than the pack holds");
    out.push_back(b);
  }
  return out;
}

}  // namespace arca
