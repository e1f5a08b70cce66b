// The blob index: blob id -> (pack, offset, length, raw length), loaded from the repository's
// index files. Held as one sorted array of 48-byte entries plus a small pack table, so memory is
// 48 bytes per blob (+ ~40 bytes per pack) whatever the repository size, and lookups are binary
// searches. Immutable once built: concurrent readers need no locks.
#pragma once
#include <optional>
#include <unordered_map>
#include <vector>

#include "repo/pack.h"

namespace arca {

struct BlobLocation {
  Id pack;
  BlobType type;
  uint32_t offset, length, raw_length;
};

// One index file's worth of packs: what a backup adds.
struct IndexPack {
  Id pack;
  BlobType type;
  std::vector<PackedBlob> blobs;
};

Bytes encode_index_file(const std::vector<IndexPack>& packs);
std::vector<IndexPack> decode_index_file(ByteView plain, const std::string& what);

class Index {
 public:
  void add(const IndexPack& pack);
  // Packs a prune has marked for deletion (docs/repository-format.md §13): readers may still use
  // them, but new writes must not deduplicate against them. Call before finalize().
  void condemn(const Id& pack);
  void condemn_all() { condemned_.assign(condemned_.size(), true); }
  // Sorts; of a blob stored in several packs (concurrent backups each stored it) one copy is the
  // primary (outside condemned packs if possible) and the others are kept aside for copies().
  // Call after the last add().
  void finalize();

  std::optional<BlobLocation> find(const Id& blob) const;
  // Every indexed copy of the blob, the primary (find()) first: readers fall back to the others
  // when one fails authentication or its pack is gone.
  std::vector<BlobLocation> copies(const Id& blob) const;
  bool has(const Id& blob) const { return lookup(blob) != nullptr; }
  // True if a writer may reference the blob without storing it: indexed outside condemned packs.
  bool usable(const Id& blob) const {
    const Entry* e = lookup(blob);
    return e && !condemned_[e->pack];
  }
  // Whether `pack` was condemned when the index was built.
  bool condemned(const Id& pack) const {
    auto it = pack_ids_.find(pack);
    return it != pack_ids_.end() && condemned_[it->second];
  }
  // Position of the blob's entry (0 .. blob_count()-1), for per-blob bitmaps.
  std::optional<size_t> position(const Id& blob) const {
    const Entry* e = lookup(blob);
    if (!e) return std::nullopt;
    return size_t(e - entries_.data());
  }
  size_t blob_count() const { return entries_.size(); }
  size_t pack_count() const { return packs_.size(); }
  size_t memory_bytes() const;
  const std::vector<std::pair<Id, BlobType>>& packs() const { return packs_; }
  bool has_pack(const Id& pack) const { return pack_ids_.count(pack) != 0; }
  // Every blob of every pack, for check and stats.
  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (const auto& e : entries_) fn(e.id, location(e));
  }

 private:
  struct Entry {
    Id id;
    uint32_t pack, offset, length, raw_length;
  };
  static_assert(sizeof(Entry) == 48);
  const Entry* lookup(const Id& blob) const;
  BlobLocation location(const Entry& e) const {
    return {packs_[e.pack].first, packs_[e.pack].second, e.offset, e.length, e.raw_length};
  }
  std::vector<std::pair<Id, BlobType>> packs_;
  std::vector<bool> condemned_;  // by pack number
  std::unordered_map<Id, uint32_t, IdHash> pack_ids_;
  std::vector<Entry> entries_;
  std::vector<Entry> others_;  // further copies of blobs in entries_, sorted by id (usually empty)
};

}  // namespace arca
