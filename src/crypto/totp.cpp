#include "crypto/totp.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "util/error.h"

namespace arca {

static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

std::string base32_encode(ByteView data) {
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  for (uint8_t b : data) {
    buf = (buf << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buf >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buf << (5 - bits)) & 31];
  return out;
}

Bytes base32_decode(const std::string& text) {
  Bytes out;
  uint32_t buf = 0;
  int bits = 0;
  for (char c : text) {
    if (c == ' ' || c == '=' || c == '-') continue;
    char u = char(c >= 'a' && c <= 'z' ? c - 32 : c);
    int v;
    if (u >= 'A' && u <= 'Z')
      v = u - 'A';
    else if (u >= '2' && u <= '7')
      v = u - '2' + 26;
    else
      throw Error(ErrorKind::Usage, "not base32 text: '" + std::string(1, c) + "' (letters A-Z and digits 2-7 only)");
    buf = (buf << 5) | uint32_t(v);
    bits += 5;
    if (bits >= 8) {
      out.push_back(uint8_t(buf >> (bits - 8)));
      bits -= 8;
    }
  }
  return out;
}

std::string totp_code(ByteView secret, int64_t unix_time, int digits, int step_s) {
  uint64_t counter = uint64_t(unix_time / step_s);
  uint8_t msg[8];
  for (int i = 7; i >= 0; i--, counter >>= 8) msg[i] = uint8_t(counter);
  uint8_t mac[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (!HMAC(EVP_sha1(), secret.data(), int(secret.size()), msg, sizeof msg, mac, &len) || len < 20)
    throw Error(ErrorKind::Generic, "HMAC-SHA-1 failed");
  int off = mac[len - 1] & 0x0f;  // dynamic truncation (RFC 4226 §5.3)
  uint32_t bin =
      (uint32_t(mac[off] & 0x7f) << 24) | (uint32_t(mac[off + 1]) << 16) | (uint32_t(mac[off + 2]) << 8) | mac[off + 3];
  uint32_t mod = 1;
  for (int i = 0; i < digits; i++) mod *= 10;
  std::string s = std::to_string(bin % mod);
  return std::string(size_t(digits) - s.size(), '0') + s;
}

std::optional<int64_t> totp_match(ByteView secret, const std::string& code, int64_t unix_time, int window) {
  std::optional<int64_t> hit;
  for (int d = -window; d <= window; d++) {
    int64_t t = unix_time + int64_t(d) * 30;
    std::string want = totp_code(secret, t, int(code.size() == 8 ? 8 : 6));
    if (want.size() == code.size() && CRYPTO_memcmp(want.data(), code.data(), code.size()) == 0) hit = t / 30;
  }
  return hit;
}

std::string totp_uri(const std::string& issuer, const std::string& account, ByteView secret) {
  auto esc = [](const std::string& s) {
    std::string o;
    for (unsigned char c : s) {
      if (isalnum(c) || c == '-' || c == '.' || c == '_')
        o += char(c);
      else {
        char b[4];
        snprintf(b, sizeof b, "%%%02X", c);
        o += b;
      }
    }
    return o;
  };
  return "otpauth://totp/" + esc(issuer) + ":" + esc(account) + "?secret=" + base32_encode(secret) +
         "&issuer=" + esc(issuer) + "&algorithm=SHA1&digits=6&period=30";
}

}  // namespace arca
