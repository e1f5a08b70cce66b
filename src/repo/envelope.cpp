#include "repo/envelope.h"

#include <cstdio>

#include "crypto/aead.h"
#include "repo/object_names.h"
#include "util/error.h"

namespace arca {

const Key* Keyring::find(uint32_t version) const {
  if (version == 0) return &master;
  auto it = data_keys.find(version);
  return it == data_keys.end() ? nullptr : &it->second;
}

const Key& Keyring::key(uint32_t version) const {
  const Key* k = find(version);
  if (!k)
    throw KeyVersionUnavailable(
        version, "data key version " + std::to_string(version) + " is not available: " + unavailable_reason(version));
  return *k;
}

std::string keyring_entry_name(uint32_t version) { return names::keyring_entry(version); }

std::string Keyring::unavailable_reason(uint32_t version) const {
  if (auto it = damaged_entries.find(version); it != damaged_entries.end())
    return keyring_entry_name(version) + " is damaged (" + it->second + ")";
  // Versions are added one by one, so a gap is a lost entry; above the newest one it may also
  // be a damaged header, which cannot be told apart without the key.
  if (version != 0 && version < current_version()) return keyring_entry_name(version) + " is missing";
  return keyring_entry_name(version) + " is missing (or this object's header is damaged)";
}

std::string Keyring::unavailable_note() const {
  std::string list;
  for (uint32_t v = 1; v < current_version(); v++)
    if (!find(v)) list += (list.empty() ? "" : ", ") + unavailable_reason(v);
  for (const auto& [v, why] : damaged_entries)
    if (v >= current_version()) list += (list.empty() ? "" : ", ") + unavailable_reason(v);
  if (list.empty()) return list;
  return list +
         ": data sealed with that key version cannot be read until the entry is restored (from a copy of "
         "the repository or a backup of it); restore it first";
}

static Bytes associated_data(const uint8_t* header, std::string_view name) {
  Bytes aad(header, header + kEnvelopeHeader);
  aad.insert(aad.end(), name.begin(), name.end());
  return aad;
}

void seal(const Keyring& keys, uint32_t version, ByteView payload, int zstd_level, Bytes& out, std::string_view name) {
  thread_local Bytes plain;
  plain.clear();
  Codec codec = compress_maybe(payload, zstd_level, plain);
  plain.push_back(uint8_t(codec));
  size_t start = out.size();
  out.push_back(kEnvelopeFormat);
  put_u32(out, version);
  Bytes aad = associated_data(out.data() + start, name);
  aead_seal(keys.key(version), aad, plain, out);
}

Bytes seal(const Keyring& keys, uint32_t version, ByteView payload, int zstd_level, std::string_view name) {
  Bytes out;
  out.reserve(payload.size() + kEnvelopeOverhead);
  seal(keys, version, payload, zstd_level, out, name);
  return out;
}

// Checks the header, authenticates and decrypts into `plain`; returns the payload's codec
// (its byte removed from `plain`).
static Codec open_envelope(const Keyring& keys, ByteView sealed, const std::string& what, std::string_view name,
                           Bytes& plain) {
  if (sealed.size() < kEnvelopeOverhead) throw Error(ErrorKind::Corrupt, what + " is truncated");
  if (sealed[0] != kEnvelopeFormat)
    throw Error(ErrorKind::Corrupt, what + " has unknown envelope format " + std::to_string(sealed[0]));
  uint32_t version = get_u32(sealed.data() + 1);
  const Key* key = keys.find(version);
  if (!key)
    throw KeyVersionUnavailable(
        version,
        what + " is sealed with data key version " + std::to_string(version) + ", but " +
            keys.unavailable_reason(version) + ": restore " + keyring_entry_name(version) +
            " first (from a copy of the repository or a backup of it); the object itself is not known to be damaged");
  plain.resize(sealed.size() - kEnvelopeHeader - kAeadOverhead);
  if (!aead_open(*key, associated_data(sealed.data(), name), sealed.subspan(kEnvelopeHeader), plain.data()))
    throw Error(ErrorKind::Corrupt, what + " failed authentication (corrupted or tampered with)");
  if (plain.empty()) throw Error(ErrorKind::Corrupt, what + " is empty");
  uint8_t codec = plain.back();
  plain.pop_back();
  return Codec(codec);
}

Bytes unseal(const Keyring& keys, ByteView sealed, const std::string& what, std::string_view name, uint64_t max_size) {
  Bytes plain;
  Codec codec = open_envelope(keys, sealed, what, name, plain);
  if (codec == Codec::None) return plain;
  return decompress(codec, plain, what, max_size);
}

void unseal_into(const Keyring& keys, ByteView sealed, std::span<uint8_t> out, const std::string& what,
                 std::string_view name) {
  thread_local Bytes plain;  // reused: blobs are up to a few MiB, and fresh buffers fault pages in
  Codec codec = open_envelope(keys, sealed, what, name, plain);
  decompress_into(codec, plain, out, what);
}

}  // namespace arca
