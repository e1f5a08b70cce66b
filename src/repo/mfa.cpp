#include "repo/mfa.h"

#include <ctime>
#include <nlohmann/json.hpp>

#include "crypto/random.h"
#include "crypto/totp.h"
#include "repo/config.h"
#include "repo/envelope.h"
#include "repo/object_names.h"
#include "repo/repository.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/host.h"

namespace arca {

using nlohmann::json;

static const std::string& kName = names::kMfaTotp;

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

// On a store whose create-if-absent is check-then-write, two releases could both create
// mfa/used-<step>. Each instead adds its own claim mfa/claims/<step>/<random> and then lists the
// step's claims: it wins only if its claim is the only one. Of two racing claims, the later
// lister sees both, so at most one wins (both may lose: they then wait for the next code). This
// needs a listing that shows every completed write, as S3, Ceph RGW and Swift give. See
// docs/security.md, "Second factor single use".
static void spend_without_conditional_writes(Repository& repo, const std::string& marker, int64_t step,
                                             const std::string& record) {
  const std::string used = "this TOTP code was already used; wait for the next one";
  if (repo.backend().stat(marker)) throw Error(ErrorKind::Auth, used);  // spent on a store with conditional writes
  std::string prefix = names::mfa_claims_prefix(step);
  std::string mine = names::mfa_claim(step, random_id());
  repo.save_object(mine, as_view(record));
  size_t claims = 0;
  bool seen = false;
  repo.backend().list(prefix, [&](const ObjectInfo& o) {
    claims++;
    seen |= o.name == mine;
  });
  if (!seen)
    throw Error(ErrorKind::Io, "cannot spend the TOTP code safely: the listing of " + prefix +
                                   " does not show the claim just written there; try again with the next code");
  if (claims != 1) throw Error(ErrorKind::Auth, used + " (or another release is using it at this moment)");
}

void mfa_verify(Repository& repo, const std::string& code) {
  if (!mfa_enrolled(repo)) throw Error(ErrorKind::Refused, "no second factor is enrolled: run 'arca mfa enroll' first");
  if (code.size() != 6 || code.find_first_not_of("0123456789") != std::string::npos)
    throw Error(ErrorKind::Usage,
                "a TOTP code is 6 digits (from the authenticator app enrolled with 'arca mfa enroll')");
  Bytes plain = unseal(repo.keys(), repo.backend().get(kName), kName, kName);
  Bytes secret;
  try {
    json j = json::parse(plain.begin(), plain.end());
    secret = base32_decode(j.at("secret").get<std::string>());
  } catch (const json::exception& e) {
    throw Error(ErrorKind::Corrupt, std::string(kName) + " is malformed: " + e.what());
  }
  auto step = totp_match(secret, code, time(nullptr));
  if (!step)
    throw Error(ErrorKind::Auth, "wrong or expired TOTP code (check the authenticator app and this machine's clock)");
  json used = {{"used", now_rfc3339()}, {"host", local_hostname()}};
  std::string s = used.dump();
  std::string marker = names::mfa_used(*step);
  if (repo.backend().atomic_put_if_absent()) {
    if (!repo.save_object_if_absent(marker, as_view(s)))
      throw Error(ErrorKind::Auth, "this TOTP code was already used; wait for the next one");
    return;
  }
  spend_without_conditional_writes(repo, marker, *step, s);
}

}  // namespace arca
