// API tokens: "arca_<id>_<secret>" with a public id ("tok_" + 12 hex digits, shown in lists and
// logs) and a 256-bit secret. Only SHA-256 of the whole token is stored, so a copy of the
// catalog does not hold usable tokens.
#include <openssl/crypto.h>

#include <array>

#include "crypto/hash.h"
#include "crypto/random.h"
#include "server/api.h"
#include "util/error.h"

namespace arca::server {

namespace {

constexpr std::string_view kPrefix = "arca_";
constexpr size_t kSecretHexLen = 64;

std::string random_hex(size_t n_bytes) {
  std::vector<uint8_t> b(n_bytes);
  random_bytes(b);
  return to_hex(b);
}

std::string token_hash(std::string_view token) {
  return sha256(ByteView(reinterpret_cast<const uint8_t*>(token.data()), token.size())).hex();
}

bool is_lower_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

std::optional<Role> parse_role(std::string_view s) {
  if (s == "viewer") return Role::Viewer;
  if (s == "operator") return Role::Operator;
  if (s == "admin") return Role::Admin;
  return std::nullopt;
}

std::string_view to_string(Role r) {
  switch (r) {
    case Role::Viewer: return "viewer";
    case Role::Operator: return "operator";
    case Role::Admin: return "admin";
  }
  return "viewer";
}

NewToken create_token(Catalog& catalog, const std::string& name, const std::string& role, double now) {
  if (name.empty()) throw Error(ErrorKind::Usage, "a token needs a name (--name) saying what it is for");
  if (!parse_role(role))
    throw Error(ErrorKind::Usage, "unknown role '" + role + "': use viewer, operator or admin");
  NewToken t;
  t.record.id = "tok_" + random_hex(6);
  t.record.name = name;
  t.record.role = role;
  t.record.created_at = now;
  t.token = std::string(kPrefix) + t.record.id + "_" + random_hex(kSecretHexLen / 2);
  t.record.hash = token_hash(t.token);
  catalog.add_token(t.record);
  return t;
}

std::optional<TokenRecord> authenticate(Catalog& catalog, const std::string& bearer) {
  // Shape first: anything else is not worth a catalog lookup.
  if (bearer.size() > 200 || bearer.compare(0, kPrefix.size(), kPrefix) != 0) return std::nullopt;
  size_t last = bearer.rfind('_');
  if (last < kPrefix.size() + 1) return std::nullopt;
  std::string_view secret = std::string_view(bearer).substr(last + 1);
  std::string id = bearer.substr(kPrefix.size(), last - kPrefix.size());
  if (secret.size() != kSecretHexLen || !is_lower_hex(secret)) return std::nullopt;

  std::string hash = token_hash(bearer);
  std::optional<TokenRecord> rec = catalog.token_by_hash(hash);
  if (!rec || rec->revoked || rec->id != id || rec->hash.size() != hash.size()) return std::nullopt;
  // The lookup found it by hash already; the constant-time comparison keeps a catalog that
  // matches loosely (a prefix index, a collation) from ever accepting a near miss.
  if (CRYPTO_memcmp(rec->hash.data(), hash.data(), hash.size()) != 0) return std::nullopt;
  return rec;
}

}  // namespace arca::server
