// A pack's header as a key holder can write it: the input is the header's plaintext, sealed here
// with a fixed keyring (authentication passes, as it does for a key holder's packs), followed by
// the sealed length; the first two bytes say how much blob data precedes the header.
#include "crypto/random.h"
#include "fuzz.h"
#include "repo/envelope.h"
#include "repo/pack.h"

static const arca::Keyring& keys() {
  static arca::Keyring k = [] {
    arca::Keyring k;
    k.master = arca::random_key();
    k.id_key = arca::random_key();
    k.data_keys[1] = arca::random_key();
    return k;
  }();
  return k;
}

ARCA_FUZZ_TARGET(data, size) {
  if (size < 2) return;
  uint64_t data_bytes = uint64_t(data[0]) << 8 | data[1];
  arca::Bytes tail = arca::seal(keys(), 1, arca_fuzz::view(data + 2, size - 2), 0);
  uint32_t hlen = uint32_t(tail.size());
  for (int i = 0; i < 4; i++) tail.push_back(uint8_t(hlen >> (8 * i)));
  arca::BlobType type;
  (void)arca::parse_pack_header(keys(), tail, tail.size() + data_bytes, "data/fuzz", &type);
}
