#include "crypto/aead.h"

#include <openssl/evp.h>

#include <memory>

#include "crypto/random.h"
#include "util/error.h"

namespace arca {
namespace {

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

// One context per thread: allocating one per blob shows up in profiles.
EVP_CIPHER_CTX* thread_ctx() {
  thread_local Ctx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) throw Error(ErrorKind::Generic, "out of memory creating a cipher context");
  return ctx.get();
}

}  // namespace

void aead_seal(const Key& key, ByteView aad, ByteView plain, Bytes& out) {
  size_t start = out.size();
  out.resize(start + kNonceSize + plain.size() + kTagSize);
  uint8_t* nonce = out.data() + start;
  random_bytes({nonce, kNonceSize});
  EVP_CIPHER_CTX* c = thread_ctx();
  int len = 0;
  bool ok = EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), nullptr, key.b.data(), nonce) == 1;
  if (ok && !aad.empty()) ok = EVP_EncryptUpdate(c, nullptr, &len, aad.data(), int(aad.size())) == 1;
  ok = ok && EVP_EncryptUpdate(c, nonce + kNonceSize, &len, plain.data(), int(plain.size())) == 1;
  ok = ok && EVP_EncryptFinal_ex(c, nonce + kNonceSize + len, &len) == 1;
  ok = ok && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, kTagSize, nonce + kNonceSize + plain.size()) == 1;
  if (!ok) throw Error(ErrorKind::Generic, "AES-256-GCM encryption failed");
}

std::optional<Bytes> aead_open(const Key& key, ByteView aad, ByteView sealed) {
  if (sealed.size() < kAeadOverhead) return std::nullopt;
  Bytes plain(sealed.size() - kAeadOverhead);
  if (!aead_open(key, aad, sealed, plain.data())) return std::nullopt;
  return plain;
}

bool aead_open(const Key& key, ByteView aad, ByteView sealed, uint8_t* plain) {
  if (sealed.size() < kAeadOverhead) return false;
  size_t n = sealed.size() - kAeadOverhead;
  EVP_CIPHER_CTX* c = thread_ctx();
  int len = 0;
  const uint8_t* nonce = sealed.data();
  bool ok = EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), nullptr, key.b.data(), nonce) == 1;
  if (ok && !aad.empty()) ok = EVP_DecryptUpdate(c, nullptr, &len, aad.data(), int(aad.size())) == 1;
  ok = ok && EVP_DecryptUpdate(c, plain, &len, nonce + kNonceSize, int(n)) == 1;
  ok = ok && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, kTagSize, const_cast<uint8_t*>(nonce + kNonceSize + n)) == 1;
  return ok && EVP_DecryptFinal_ex(c, plain + len, &len) == 1;
}

}  // namespace arca
