#include "crypto/random.h"

#include <openssl/rand.h>

#include "util/error.h"

namespace arca {

void random_bytes(std::span<uint8_t> out) {
  if (RAND_bytes(out.data(), int(out.size())) != 1) throw Error(ErrorKind::Generic, "random number generator failed");
}

Key random_key() {
  Key k;
  random_bytes(k.b);
  return k;
}

Id random_id() {
  Id id;
  random_bytes(id.b);
  return id;
}

}  // namespace arca
