#include "crypto/kdf.h"

#include <argon2.h>

#include "crypto/hash.h"
#include "util/error.h"

namespace arca {

Key derive_from_passphrase(const std::string& passphrase, ByteView salt, const Argon2Params& p) {
  Key k;
  int rc = argon2id_hash_raw(p.time_cost, p.memory_kib, p.parallelism, passphrase.data(), passphrase.size(),
                             salt.data(), salt.size(), k.b.data(), k.b.size());
  if (rc != ARGON2_OK) throw Error(ErrorKind::Generic, std::string("Argon2id failed: ") + argon2_error_message(rc));
  return k;
}

Key derive_from_key_file(ByteView file_contents, ByteView salt) {
  if (file_contents.size() < 32) throw Error(ErrorKind::Auth, "key file is shorter than 32 bytes");
  Key file_key;
  Id h = sha256(file_contents);
  std::copy(h.b.begin(), h.b.end(), file_key.b.begin());
  Id kek = hmac_sha256(file_key, salt);
  Key k;
  std::copy(kek.b.begin(), kek.b.end(), k.b.begin());
  return k;
}

}  // namespace arca
