#include "crypto/sign.h"

#include <openssl/evp.h>

#include <memory>

#include "util/error.h"

namespace arca {

namespace {

using PKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

PKey private_key(ByteView seed) {
  if (seed.size() != kSigningSeedSize) throw Error(ErrorKind::Corrupt, "signing key has the wrong length");
  PKey k(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()), EVP_PKEY_free);
  if (!k) throw Error(ErrorKind::Generic, "OpenSSL cannot load an Ed25519 key");
  return k;
}

}  // namespace

SigningKeyPair new_signing_key() {
  EVP_PKEY* raw = nullptr;
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr),
                                                                  EVP_PKEY_CTX_free);
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1)
    throw Error(ErrorKind::Generic, "OpenSSL cannot make an Ed25519 key");
  PKey k(raw, EVP_PKEY_free);
  SigningKeyPair p{Bytes(kSigningSeedSize), Bytes(kSigningPublicSize)};
  size_t n = p.seed.size(), m = p.public_key.size();
  if (EVP_PKEY_get_raw_private_key(k.get(), p.seed.data(), &n) != 1 || n != kSigningSeedSize ||
      EVP_PKEY_get_raw_public_key(k.get(), p.public_key.data(), &m) != 1 || m != kSigningPublicSize)
    throw Error(ErrorKind::Generic, "OpenSSL cannot export an Ed25519 key");
  return p;
}

Bytes signing_public_key(ByteView seed) {
  PKey k = private_key(seed);
  Bytes pub(kSigningPublicSize);
  size_t m = pub.size();
  if (EVP_PKEY_get_raw_public_key(k.get(), pub.data(), &m) != 1 || m != kSigningPublicSize)
    throw Error(ErrorKind::Generic, "OpenSSL cannot export an Ed25519 key");
  return pub;
}

Bytes sign_message(ByteView seed, ByteView message) {
  PKey k = private_key(seed);
  MdCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  Bytes sig(kSignatureSize);
  size_t n = sig.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, k.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &n, message.data(), message.size()) != 1 || n != kSignatureSize)
    throw Error(ErrorKind::Generic, "OpenSSL cannot sign with Ed25519");
  return sig;
}

bool verify_signature(ByteView public_key, ByteView message, ByteView signature) {
  if (public_key.size() != kSigningPublicSize || signature.size() != kSignatureSize) return false;
  PKey k(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key.data(), public_key.size()), EVP_PKEY_free);
  MdCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!k || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, k.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(), message.size()) == 1;
}

}  // namespace arca
