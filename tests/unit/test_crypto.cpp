#include <gtest/gtest.h>

#include "crypto/aead.h"
#include "crypto/hash.h"
#include "crypto/kdf.h"
#include "crypto/random.h"
#include "crypto/totp.h"
#include "repo/envelope.h"
#include "test_util.h"
#include "util/error.h"

using namespace arca;

namespace {
Keyring test_keys() { return random_keyring(2); }
}  // namespace

TEST(Aead, RoundTripAndFreshNonces) {
  Key k = random_key();
  Bytes plain = {1, 2, 3, 4, 5};
  Bytes a, b;
  aead_seal(k, {}, plain, a);
  aead_seal(k, {}, plain, b);
  EXPECT_NE(a, b) << "two encryptions of the same message must differ (random nonces)";
  EXPECT_EQ(a.size(), plain.size() + kAeadOverhead);
  auto out = aead_open(k, {}, a);
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, plain);
}

TEST(Aead, EveryFlippedBitIsDetected) {
  Key k = random_key();
  Bytes plain(64, 0x42);
  Bytes sealed;
  aead_seal(k, as_view("aad"), plain, sealed);
  for (size_t i = 0; i < sealed.size(); i++)
    for (int bit = 0; bit < 8; bit++) {
      Bytes t = sealed;
      t[i] ^= uint8_t(1 << bit);
      EXPECT_FALSE(aead_open(k, as_view("aad"), t)) << "flip at byte " << i << " bit " << bit;
    }
  EXPECT_FALSE(aead_open(k, as_view("other"), sealed)) << "associated data must be authenticated";
  EXPECT_FALSE(aead_open(random_key(), as_view("aad"), sealed)) << "wrong key must fail";
  EXPECT_FALSE(aead_open(k, as_view("aad"), ByteView(sealed).first(sealed.size() - 1))) << "truncation";
}

TEST(Envelope, SealUnsealWithCompressionAndKeyVersions) {
  Keyring k = test_keys();
  std::string text(100000, 'a');
  Bytes sealed = seal(k, 2, as_view(text), 3);
  EXPECT_LT(sealed.size(), text.size() / 10) << "compressible payload should shrink";
  EXPECT_EQ(get_u32(sealed.data() + 1), 2u);
  EXPECT_EQ(as_string(unseal(k, sealed, "x")), text);
  // Random data is stored raw (no expansion beyond the fixed overhead).
  Bytes rnd(200000);
  random_bytes(rnd);
  Bytes s2 = seal(k, 1, rnd, 3);
  EXPECT_EQ(s2.size(), rnd.size() + kEnvelopeOverhead);
  EXPECT_EQ(unseal(k, s2, "x"), rnd);
}

TEST(Envelope, UnsealIntoTheCallersBufferChecksTheSize) {
  Keyring k = test_keys();
  std::string text(100000, 'b');
  Bytes rnd(5000);
  random_bytes(rnd);
  for (Bytes sealed : {seal(k, 1, as_view(text), 3), seal(k, 1, rnd, 3)}) {
    Bytes whole = unseal(k, sealed, "x");
    Bytes out(whole.size());
    unseal_into(k, sealed, out, "x");
    EXPECT_EQ(out, whole);
    // A payload of another size than the caller (the index) expects is corrupt, not truncated.
    for (size_t wrong : {whole.size() - 1, whole.size() + 1}) {
      Bytes other(wrong);
      try {
        unseal_into(k, sealed, other, "blob Y");
        FAIL() << "a " << wrong << "-byte buffer for a " << whole.size() << "-byte payload was accepted";
      } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Corrupt);
        EXPECT_NE(std::string(e.what()).find("blob Y holds " + std::to_string(whole.size()) + " bytes"),
                  std::string::npos)
            << e.what();
      }
    }
  }
}

TEST(Envelope, TamperAndUnknownVersionAreCorruptErrors) {
  Keyring k = test_keys();
  Bytes sealed = seal(k, 1, as_view("hello world"), 3);
  for (size_t i = 0; i < sealed.size(); i++) {
    Bytes t = sealed;
    t[i] ^= 0x01;
    try {
      unseal(k, t, "object X");
      FAIL() << "tampering at byte " << i << " not detected";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Corrupt);
      EXPECT_NE(std::string(e.what()).find("object X"), std::string::npos) << "error must name the object";
    }
  }
  Keyring other = test_keys();
  other.data_keys.erase(2);
  Bytes v2 = seal(k, 2, as_view("x"), 0);
  EXPECT_THROW(unseal(other, v2, "y"), Error);
}

TEST(Hash, KeyedIdsDependOnKey) {
  Key a = random_key(), b = random_key();
  Bytes data = {9, 9, 9};
  EXPECT_EQ(hmac_sha256(a, data), hmac_sha256(a, data));
  EXPECT_NE(hmac_sha256(a, data), hmac_sha256(b, data));
  EXPECT_NE(hmac_sha256(a, data), sha256(data)) << "ids must not be plain content hashes";
  // Known SHA-256 test vector ("abc").
  EXPECT_EQ(sha256(as_view("abc")).hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Kdf, DeterministicAndSaltSensitive) {
  Bytes salt1(16, 1), salt2(16, 2);
  Argon2Params p{1, 8, 1};
  Key a = derive_from_passphrase("pw", salt1, p);
  Key b = derive_from_passphrase("pw", salt1, p);
  Key c = derive_from_passphrase("pw", salt2, p);
  Key d = derive_from_passphrase("pw2", salt1, p);
  EXPECT_EQ(a.b, b.b);
  EXPECT_NE(a.b, c.b);
  EXPECT_NE(a.b, d.b);
}

// RFC 6238 appendix B (SHA-1 secret "12345678901234567890"), 8-digit and 6-digit codes.
TEST(Totp, Rfc6238Vectors) {
  std::string key = "12345678901234567890";
  ByteView k = as_view(key);
  EXPECT_EQ(totp_code(k, 59, 8), "94287082");
  EXPECT_EQ(totp_code(k, 1111111109, 8), "07081804");
  EXPECT_EQ(totp_code(k, 1111111111, 8), "14050471");
  EXPECT_EQ(totp_code(k, 1234567890, 8), "89005924");
  EXPECT_EQ(totp_code(k, 2000000000, 8), "69279037");
  EXPECT_EQ(totp_code(k, 20000000000, 8), "65353130");
  EXPECT_EQ(totp_code(k, 1234567890), "005924");
}

TEST(Totp, MatchesWithinOneStepOfDrift) {
  std::string key = "12345678901234567890";
  ByteView k = as_view(key);
  std::string code = totp_code(k, 1234567890);
  EXPECT_EQ(totp_match(k, code, 1234567890), 1234567890 / 30);
  EXPECT_TRUE(totp_match(k, code, 1234567890 + 30));
  EXPECT_TRUE(totp_match(k, code, 1234567890 - 30));
  EXPECT_FALSE(totp_match(k, code, 1234567890 + 90));
  EXPECT_FALSE(totp_match(k, "000000", 1234567890));
}

TEST(Base32, Rfc4648Vectors) {
  EXPECT_EQ(base32_encode(as_view(std::string("foobar"))), "MZXW6YTBOI");
  EXPECT_EQ(base32_encode(as_view(std::string("f"))), "MY");
  EXPECT_EQ(as_string(base32_decode("mzxw6ytboi======")), "foobar");
  EXPECT_EQ(as_string(base32_decode("MZXW 6YTB OI")), "foobar");
  EXPECT_THROW(base32_decode("MZ1W"), Error);
}
