#include "repo/compress.h"

#include <zstd.h>

#include <cstring>
#include <memory>

#include "repo/decode_guard.h"
#include "util/error.h"

namespace arca {
namespace {

struct CCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxFree {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

ZSTD_CCtx* cctx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxFree> c(ZSTD_createCCtx());
  return c.get();
}
ZSTD_DCtx* dctx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxFree> c(ZSTD_createDCtx());
  return c.get();
}

constexpr size_t kSample = 16 * 1024;
constexpr int kSamples = 4;

// True if fast compression of samples spread over the chunk (start, two inner points, end)
// saves less than 3% on every one: a chunk that is partly compressible still gets compressed.
bool looks_incompressible(ByteView data) {
  if (data.size() < 8 * kSample) return false;
  thread_local Bytes buf(ZSTD_compressBound(kSample));
  for (int i = 0; i < kSamples; i++) {
    size_t off = (data.size() - kSample) * size_t(i) / (kSamples - 1);
    size_t n = ZSTD_compressCCtx(cctx(), buf.data(), buf.size(), data.data() + off, kSample, 1);
    if (ZSTD_isError(n) || n <= kSample * 97 / 100) return false;
  }
  return true;
}

}  // namespace

Codec compress_maybe(ByteView data, int level, Bytes& out) {
  if (level > 0 && data.size() >= 64 && !looks_incompressible(data)) {
    size_t start = out.size();
    out.resize(start + ZSTD_compressBound(data.size()));
    size_t n = ZSTD_compressCCtx(cctx(), out.data() + start, out.size() - start, data.data(), data.size(), level);
    if (!ZSTD_isError(n) && n < data.size()) {
      out.resize(start + n);
      return Codec::Zstd;
    }
    out.resize(start);
  }
  out.insert(out.end(), data.begin(), data.end());
  return Codec::None;
}

// The decoded size a payload declares (zstd frames record it), checked before allocating: a
// frame is blocks of at most 128 KiB behind a header of at least 3 bytes, so a declared size
// beyond that for the frame's own length is a lie (an 88-byte frame claiming 4 GiB), and is
// Corrupt rather than an allocation (docs/security.md, "Decompression").
static uint64_t decoded_size(Codec codec, ByteView data, const std::string& what) {
  if (codec == Codec::None) return data.size();
  if (codec != Codec::Zstd) throw Error(ErrorKind::Corrupt, what + ": unknown compression codec");
  unsigned long long size = ZSTD_getFrameContentSize(data.data(), data.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > (1ull << 32))
    throw Error(ErrorKind::Corrupt, what + ": bad compressed frame");
  uint64_t possible = (uint64_t(data.size()) / 3 + 1) * ZSTD_BLOCKSIZE_MAX;
  if (size > possible)
    throw Error(ErrorKind::Corrupt, what + ": compressed frame of " + std::to_string(data.size()) + " bytes declares " +
                                        std::to_string(size) +
                                        " decoded bytes, more than it can hold (damaged or crafted)");
  return size;
}

Bytes decompress(Codec codec, ByteView data, const std::string& what, uint64_t max_size) {
  uint64_t size = decoded_size(codec, data, what);
  if (size > max_size)
    throw Error(ErrorKind::Corrupt, what + ": compressed frame declares " + std::to_string(size) + " decoded bytes, " +
                                        std::to_string(max_size) + " expected (damaged or crafted)");
  return decode_guarded(what, [&] {
    Bytes out(size);
    decompress_into(codec, data, out, what);
    return out;
  });
}

void decompress_into(Codec codec, ByteView data, std::span<uint8_t> out, const std::string& what) {
  if (uint64_t size = decoded_size(codec, data, what); size != out.size())
    throw Error(ErrorKind::Corrupt,
                what + " holds " + std::to_string(size) + " bytes, " + std::to_string(out.size()) + " expected");
  if (codec == Codec::None) {
    if (!data.empty()) std::memcpy(out.data(), data.data(), data.size());
    return;
  }
  size_t n = ZSTD_decompressDCtx(dctx(), out.data(), out.size(), data.data(), data.size());
  if (ZSTD_isError(n) || n != out.size()) throw Error(ErrorKind::Corrupt, what + ": decompression failed");
}

}  // namespace arca
