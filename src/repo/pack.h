// Pack files: many sealed blobs back to back, then a sealed header describing them, then the
// header's sealed length (u32le). A pack is named by the SHA-256 of its sealed header, which
// authenticates the ids and lengths of every blob (and each blob authenticates itself), so the
// name commits to the whole content without hashing every byte twice. Packs live under data/
// (file contents) or meta/ (trees), so metadata can stay in a hot tier on its own.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "repo/keyring.h"
#include "storage/backend.h"
#include "util/aligned_buffer.h"
#include "util/bytes.h"
#include "util/fd.h"

namespace arca {

enum class BlobType : uint8_t { Data = 0, Tree = 1 };

std::string pack_name(BlobType type, const Id& pack_id);
const std::string& pack_dir(BlobType type);  // "data/" or "meta/" (repo/object_names.h)

struct PackedBlob {
  Id id;
  uint32_t offset = 0;      // of the sealed blob within the pack
  uint32_t length = 0;      // sealed length
  uint32_t raw_length = 0;  // plaintext length
};

// Assembles a pack in a staging file (so memory does not grow with pack size), hashing as it goes.
class PackBuilder {
 public:
  // `expected_size` is preallocated, so the pack stays contiguous on disk. `around_cache`: write
  // with O_DIRECT where possible — right when the staging file becomes the stored object, wrong
  // when it is read back at once for an upload and deleted.
  PackBuilder(BlobType type, std::string staging_path, uint64_t expected_size, bool around_cache = true);
  ~PackBuilder();  // removes the staging file unless finish() handed it over
  PackBuilder(const PackBuilder&) = delete;
  PackBuilder& operator=(const PackBuilder&) = delete;

  void add(const Id& id, uint32_t raw_length, ByteView sealed);
  uint64_t size() const { return size_; }
  size_t count() const { return blobs_.size(); }
  BlobType type() const { return type_; }

  struct Finished {
    Id id;
    BlobType type;
    std::string path;  // the complete staging file
    uint64_t size;
    std::vector<PackedBlob> blobs;
  };
  Finished finish(const Keyring& keys);

 private:
  BlobType type_;
  void write_out(bool final);  // writes the aligned part of buf_ (all of it, padded, if final)
  std::string path_;
  UniqueFd fd_;
  bool direct_ = false;
  AlignedBuffer buf_;
  size_t buffered_ = 0;   // bytes in buf_
  uint64_t written_ = 0;  // bytes written to the file
  uint64_t size_ = 0;     // logical pack size so far
  std::vector<PackedBlob> blobs_;
};

// The id a complete pack must have: SHA-256 of its sealed header. Throws Error(Corrupt).
Id pack_id_of(ByteView pack, const std::string& what);

// Reads the header at the end of a whole pack (or its tail); `pack_size` is the pack's length.
std::vector<PackedBlob> parse_pack_header(const Keyring& keys, ByteView tail, uint64_t pack_size,
                                          const std::string& what, BlobType* type_out = nullptr);

// The end of a stored pack holding its whole sealed header (one ranged read, two if the header
// is large), for rebuilding an index without reading the data.
Bytes read_pack_tail(const Backend& backend, const std::string& name, uint64_t pack_size);
// The data key version the sealed header in `tail` names (repository-format.md §2), if readable.
std::optional<uint32_t> pack_header_key_version(ByteView tail);
// "data/ab/<64 hex>" or "meta/…" -> pack id and type; nullopt for other names.
std::optional<std::pair<Id, BlobType>> parse_pack_name(const std::string& name);

}  // namespace arca
