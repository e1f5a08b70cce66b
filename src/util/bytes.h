// Byte buffers, views, hex and little-endian helpers shared by every layer.
#pragma once
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace arca {

// Allocator whose resize() leaves new bytes uninitialized: buffers are always filled by a read,
// a decryption or a decompression right after, and zeroing them first cost ~15% of a backup.
template <typename T>
struct DefaultInitAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  using std::allocator<T>::allocator;
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

using Bytes = std::vector<uint8_t, DefaultInitAllocator<uint8_t>>;
using ByteView = std::span<const uint8_t>;

// A 32-byte identifier (blob ids, pack ids, snapshot ids).
struct Id {
  std::array<uint8_t, 32> b{};
  bool operator==(const Id&) const = default;
  auto operator<=>(const Id&) const = default;
  std::string hex() const;
  std::string short_hex() const { return hex().substr(0, 8); }
  static Id from_hex(std::string_view s);  // throws Error(Usage) on malformed input
  bool is_zero() const;
};

struct IdHash {
  size_t operator()(const Id& id) const {
    size_t h;
    std::memcpy(&h, id.b.data(), sizeof h);  // ids are uniformly random already
    return h;
  }
};

std::string to_hex(ByteView data);
Bytes from_hex(std::string_view s);  // throws Error(Usage)
std::string to_base64(ByteView data);
Bytes from_base64(std::string_view s);  // throws Error(Corrupt)

inline ByteView as_view(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }
inline std::string as_string(ByteView v) { return {reinterpret_cast<const char*>(v.data()), v.size()}; }

inline void put_u32(Bytes& out, uint32_t v) {
  for (int i = 0; i < 4; i++) out.push_back(uint8_t(v >> (8 * i)));
}
inline void put_u64(Bytes& out, uint64_t v) {
  for (int i = 0; i < 8; i++) out.push_back(uint8_t(v >> (8 * i)));
}
inline uint32_t get_u32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
inline uint64_t get_u64(const uint8_t* p) { return uint64_t(get_u32(p)) | uint64_t(get_u32(p + 4)) << 32; }

// Bounds-checked sequential reader for binary formats; throws Error(Corrupt) naming `what`.
class Reader {
 public:
  Reader(ByteView data, std::string what) : data_(data), what_(std::move(what)) {}
  uint8_t u8();
  uint32_t u32();
  uint64_t u64();
  Id id();
  ByteView take(size_t n);
  bool done() const { return pos_ == data_.size(); }
  size_t remaining() const { return data_.size() - pos_; }
  // A u32 count of items that take at least `item_bytes` each, refused (Corrupt) when the bytes
  // left cannot hold that many: callers may then reserve() it (see docs/security.md).
  uint32_t count(size_t item_bytes, const char* items);

 private:
  void need(size_t n);
  ByteView data_;
  size_t pos_ = 0;
  std::string what_;
};

}  // namespace arca
