// The repository's second factor (`arca mfa enroll`): a TOTP secret, sealed under the master
// key as `mfa/totp`. Lifting a governance lock or releasing a legal hold needs a current code.
// Each code is accepted once: `mfa/used-<time step>` is created when it is spent, or on stores
// without atomic create-if-absent a claim under `mfa/claims/<time step>/` (docs/security.md).
#pragma once
#include <string>

#include "util/bytes.h"

namespace arca {

class Repository;

struct MfaEnrollment {
  std::string secret_base32, uri;
};

bool mfa_enrolled(const Repository& repo);
// Creates the secret; refuses (Error Usage) if one exists.
MfaEnrollment mfa_enroll(Repository& repo, const std::string& account);
// Throws Error(Refused) if nothing is enrolled, Error(Auth) for a wrong, expired or reused code.
void mfa_verify(Repository& repo, const std::string& code);

}  // namespace arca
