// Ed25519 signatures (OpenSSL EVP): each key file has its own signing key pair, so a recovery
// point can prove which key wrote it (see docs/security.md, "Future-dated recovery points").
#pragma once
#include "util/bytes.h"

namespace arca {

constexpr size_t kSigningSeedSize = 32, kSigningPublicSize = 32, kSignatureSize = 64;

struct SigningKeyPair {
  Bytes seed;  // the private key (RFC 8032's 32-byte seed)
  Bytes public_key;
};

SigningKeyPair new_signing_key();
Bytes signing_public_key(ByteView seed);  // throws Error for a seed of the wrong size
Bytes sign_message(ByteView seed, ByteView message);
// False for a bad signature, or a public key or signature of the wrong size.
bool verify_signature(ByteView public_key, ByteView message, ByteView signature);

}  // namespace arca
