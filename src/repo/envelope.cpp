#include "repo/envelope.h"

#include "crypto/aead.h"
#include "util/error.h"

namespace arca {

const Key& Keyring::key(uint32_t version) const {
  if (version == 0) return master;
  auto it = data_keys.find(version);
  if (it == data_keys.end())
    throw Error(ErrorKind::Corrupt, "object sealed with unknown data key version " + std::to_string(version));
  return it->second;
}

void seal(const Keyring& keys, uint32_t version, ByteView payload, int zstd_level, Bytes& out) {
  Bytes plain;
  plain.reserve(payload.size() + 1);
  plain.push_back(0);
  plain[0] = uint8_t(compress_maybe(payload, zstd_level, plain));
  size_t start = out.size();
  out.push_back(kEnvelopeFormat);
  put_u32(out, version);
  uint8_t header[kEnvelopeHeader];
  std::copy(out.begin() + ptrdiff_t(start), out.end(), header);
  aead_seal(keys.key(version), ByteView(header, kEnvelopeHeader), plain, out);
}

Bytes seal(const Keyring& keys, uint32_t version, ByteView payload, int zstd_level) {
  Bytes out;
  out.reserve(payload.size() + kEnvelopeOverhead);
  seal(keys, version, payload, zstd_level, out);
  return out;
}

Bytes unseal(const Keyring& keys, ByteView sealed, const std::string& what) {
  if (sealed.size() < kEnvelopeOverhead) throw Error(ErrorKind::Corrupt, what + " is truncated");
  if (sealed[0] != kEnvelopeFormat)
    throw Error(ErrorKind::Corrupt, what + " has unknown envelope format " + std::to_string(sealed[0]));
  uint32_t version = get_u32(sealed.data() + 1);
  auto plain = aead_open(keys.key(version), sealed.first(kEnvelopeHeader), sealed.subspan(kEnvelopeHeader));
  if (!plain) throw Error(ErrorKind::Corrupt, what + " failed authentication (corrupted or tampered with)");
  ByteView body(plain->data() + 1, plain->size() - 1);
  if (plain->at(0) == uint8_t(Codec::None)) {
    plain->erase(plain->begin());
    return std::move(*plain);
  }
  return decompress(Codec(plain->at(0)), body, what);
}

}  // namespace arca
