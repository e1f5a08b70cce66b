#include "crypto/hash.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "util/error.h"

namespace arca {

Id sha256(ByteView data) {
  Id id;
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), id.b.data(), &len, EVP_sha256(), nullptr) != 1)
    throw Error(ErrorKind::Generic, "SHA-256 failed");
  return id;
}

Id hmac_sha256(const Key& key, ByteView data) {
  Id id;
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.b.data(), int(key.b.size()), data.data(), data.size(), id.b.data(), &len))
    throw Error(ErrorKind::Generic, "HMAC-SHA-256 failed");
  return id;
}

}  // namespace arca
