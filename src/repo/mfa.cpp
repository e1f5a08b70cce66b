#include "repo/mfa.h"

#include <ctime>
#include <nlohmann/json.hpp>

#include "crypto/random.h"
#include "crypto/totp.h"
#include "repo/config.h"
#include "repo/envelope.h"
#include "repo/repository.h"
#include "util/error.h"

namespace arca {

using nlohmann::json;

static constexpr const char* kName = "mfa/totp";

bool mfa_enrolled(const Repository& repo) { return repo.backend().stat(kName).has_value(); }

MfaEnrollment mfa_enroll(Repository& repo, const std::string& account) {
  Bytes secret(20);
  random_bytes(secret);
  MfaEnrollment e{base32_encode(secret), totp_uri("Arca", account, secret)};
  json j = {{"secret", e.secret_base32}, {"created", now_rfc3339()}, {"account", account}};
  std::string s = j.dump();
  if (!repo.backend().put_if_absent(kName, seal(repo.keys(), 0, as_view(s), 0, kName)))
    throw Error(ErrorKind::Usage, "a second factor is already enrolled for this repository");
  return e;
}

void mfa_verify(Repository& repo, const std::string& code) {
  if (!mfa_enrolled(repo))
    throw Error(ErrorKind::Refused, "no second factor is enrolled: run 'arca mfa enroll' first");
  if (code.size() != 6 || code.find_first_not_of("0123456789") != std::string::npos)
    throw Error(ErrorKind::Usage, "a TOTP code is 6 digits (from the authenticator app enrolled with 'arca mfa enroll')");
  Bytes plain = unseal(repo.keys(), repo.backend().get(kName), kName, kName);
  Bytes secret;
  try {
    json j = json::parse(plain.begin(), plain.end());
    secret = base32_decode(j.at("secret").get<std::string>());
  } catch (const json::exception& e) {
    throw Error(ErrorKind::Corrupt, std::string(kName) + " is malformed: " + e.what());
  }
  auto step = totp_match(secret, code, time(nullptr));
  if (!step) throw Error(ErrorKind::Auth, "wrong or expired TOTP code (check the authenticator app and this machine's clock)");
  json used = {{"used", now_rfc3339()}, {"host", local_hostname()}};
  std::string s = used.dump();
  if (!repo.save_object_if_absent("mfa/used-" + std::to_string(*step), as_view(s)))
    throw Error(ErrorKind::Auth, "this TOTP code was already used; wait for the next one");
}

}  // namespace arca
