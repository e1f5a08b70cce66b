// Time-based one-time passwords (RFC 6238: HMAC-SHA-1, 30-second steps, 6 digits), the second
// factor authenticator apps speak, and the base32 text they exchange secrets in (RFC 4648).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "util/bytes.h"

namespace arca {

std::string base32_encode(ByteView data);      // no padding
Bytes base32_decode(const std::string& text);  // ignores case, spaces and '='; throws Error(Usage)
std::string totp_code(ByteView secret, int64_t unix_time, int digits = 6, int step_s = 30);
// The time step the code belongs to, if it matches one within ±`window` steps of `unix_time`
// (clocks drift); compared in constant time.
std::optional<int64_t> totp_match(ByteView secret, const std::string& code, int64_t unix_time, int window = 1);
// otpauth:// URI for authenticator apps.
std::string totp_uri(const std::string& issuer, const std::string& account, ByteView secret);

}  // namespace arca
