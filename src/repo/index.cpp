#include "repo/index.h"

#include <algorithm>
#include <cstring>

#include "repo/decode_guard.h"
#include "util/error.h"

namespace arca {

static const char kIndexMagic[8] = {'A', 'R', 'C', 'A', 'I', 'D', 'X', '1'};

Bytes encode_index_file(const std::vector<IndexPack>& packs) {
  Bytes out(kIndexMagic, kIndexMagic + 8);
  put_u32(out, uint32_t(packs.size()));
  for (const auto& p : packs) {
    out.insert(out.end(), p.pack.b.begin(), p.pack.b.end());
    out.push_back(uint8_t(p.type));
    put_u32(out, uint32_t(p.blobs.size()));
    for (const auto& b : p.blobs) {
      out.insert(out.end(), b.id.b.begin(), b.id.b.end());
      put_u32(out, b.offset);
      put_u32(out, b.length);
      put_u32(out, b.raw_length);
    }
  }
  return out;
}

// Counts are checked against the bytes that follow before anything is reserved: a count the
// object cannot hold is Corrupt, not an allocation of what it claims (docs/security.md).
static constexpr size_t kIndexPackBytes = 32 + 1 + 4;  // id, type, blob count
static constexpr size_t kIndexBlobBytes = 32 + 3 * 4;  // id, offset, length, raw length

std::vector<IndexPack> decode_index_file(ByteView plain, const std::string& what) {
  return decode_guarded(what, [&] {
    Reader r(plain, what);
    if (std::memcmp(r.take(8).data(), kIndexMagic, 8) != 0) throw Error(ErrorKind::Corrupt, what + ": bad index magic");
    uint32_t n = r.count(kIndexPackBytes, "packs");
    std::vector<IndexPack> out;
    out.reserve(n);
    for (uint32_t i = 0; i < n; i++) {
      IndexPack p;
      p.pack = r.id();
      uint8_t t = r.u8();
      if (t > 1) throw Error(ErrorKind::Corrupt, what + ": unknown blob type");
      p.type = BlobType(t);
      uint32_t m = r.count(kIndexBlobBytes, "blobs");
      p.blobs.reserve(m);
      for (uint32_t k = 0; k < m; k++) {
        PackedBlob b;
        b.id = r.id();
        b.offset = r.u32();
        b.length = r.u32();
        b.raw_length = r.u32();
        p.blobs.push_back(b);
      }
      out.push_back(std::move(p));
    }
    if (!r.done()) throw Error(ErrorKind::Corrupt, what + ": trailing bytes");
    return out;
  });
}

void Index::add(const IndexPack& pack) {
  auto [it, inserted] = pack_ids_.try_emplace(pack.pack, uint32_t(packs_.size()));
  if (inserted) {
    packs_.emplace_back(pack.pack, pack.type);
    condemned_.push_back(false);
  } else {
    return;
  }  // the same pack listed by two index files
  for (const auto& b : pack.blobs) entries_.push_back({b.id, it->second, b.offset, b.length, b.raw_length});
}

void Index::condemn(const Id& pack) {
  if (auto it = pack_ids_.find(pack); it != pack_ids_.end()) condemned_[it->second] = true;
}

void Index::finalize() {
  // Among copies of one blob, the first after sorting is the primary: one outside a condemned pack.
  std::sort(entries_.begin(), entries_.end(), [&](const Entry& a, const Entry& b) {
    if (a.id != b.id) return a.id < b.id;
    if (condemned_[a.pack] != condemned_[b.pack]) return !condemned_[a.pack];
    return packs_[a.pack].first < packs_[b.pack].first;  // the same primary copy in every run
  });
  // The other copies are remembered (few: only concurrent writers store a blob twice).
  size_t w = 0;
  for (size_t r = 0; r < entries_.size(); r++) {
    if (w > 0 && entries_[w - 1].id == entries_[r].id)
      others_.push_back(entries_[r]);
    else
      entries_[w++] = entries_[r];
  }
  entries_.resize(w);
  entries_.shrink_to_fit();
  std::sort(others_.begin(), others_.end(), [](const Entry& a, const Entry& b) { return a.id < b.id; });
}

const Index::Entry* Index::lookup(const Id& blob) const {
  auto it =
      std::lower_bound(entries_.begin(), entries_.end(), blob, [](const Entry& e, const Id& id) { return e.id < id; });
  if (it == entries_.end() || it->id != blob) return nullptr;
  return &*it;
}

std::optional<BlobLocation> Index::find(const Id& blob) const {
  const Entry* e = lookup(blob);
  if (!e) return std::nullopt;
  return location(*e);
}

std::vector<BlobLocation> Index::copies(const Id& blob) const {
  std::vector<BlobLocation> out;
  const Entry* e = lookup(blob);
  if (!e) return out;
  out.push_back(location(*e));
  auto it =
      std::lower_bound(others_.begin(), others_.end(), blob, [](const Entry& x, const Id& id) { return x.id < id; });
  for (; it != others_.end() && it->id == blob; ++it) out.push_back(location(*it));
  return out;
}

size_t Index::memory_bytes() const {
  return (entries_.capacity() + others_.capacity()) * sizeof(Entry) + packs_.capacity() * sizeof(packs_[0]) +
         pack_ids_.size() * (sizeof(Id) + sizeof(uint32_t) + 2 * sizeof(void*));
}

}  // namespace arca
