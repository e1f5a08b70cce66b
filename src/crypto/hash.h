// SHA-256 (pack and object names) and keyed content ids (HMAC-SHA-256 under the repository's id key).
#pragma once
#include <openssl/evp.h>

#include <memory>

#include "crypto/key.h"
#include "util/bytes.h"

namespace arca {

Id sha256(ByteView data);
Id hmac_sha256(const Key& key, ByteView data);

// Incremental SHA-256 for streams (packs being assembled).
class Sha256 {
 public:
  Sha256();
  void update(ByteView data);
  Id finish();

 private:
  struct Free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx_;
};

}  // namespace arca
