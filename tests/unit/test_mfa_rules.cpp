// The second factor in-process on the memory backend: enrolment once, a current code accepted
// once, wrong or reused codes refused as Auth, nothing enrolled refused.
#include <gtest/gtest.h>

#include <ctime>

#include "crypto/totp.h"
#include "mem_repo.h"
#include "repo/mfa.h"
#include "util/error.h"

using namespace arca;
using namespace arca::testing;

namespace {

ErrorKind verify_error(Repository& repo, const std::string& code) {
  try {
    mfa_verify(repo, code);
  } catch (const Error& e) {
    return e.kind();
  }
  return ErrorKind::Generic;  // accepted
}

}  // namespace

TEST(MfaRules, NothingEnrolledIsRefused) {
  MemRepo r;
  auto repo = r.open();
  EXPECT_FALSE(mfa_enrolled(*repo));
  EXPECT_EQ(verify_error(*repo, "123456"), ErrorKind::Refused);
}

TEST(MfaRules, EnrolOnceThenACurrentCodeWorksOnce) {
  MemRepo r;
  auto repo = r.open();
  MfaEnrollment e = mfa_enroll(*repo, "ops@example");
  EXPECT_TRUE(mfa_enrolled(*r.open()));
  EXPECT_NE(e.uri.find("otpauth://totp/"), std::string::npos) << e.uri;
  try {
    mfa_enroll(*repo, "again");
    FAIL() << "enrolled twice";
  } catch (const Error& err) {
    EXPECT_EQ(err.kind(), ErrorKind::Usage) << err.what();
  }
  Bytes secret = base32_decode(e.secret_base32);
  std::string code = totp_code(secret, time(nullptr));
  std::string wrong = code == "000000" ? "111111" : "000000";
  EXPECT_EQ(verify_error(*repo, wrong), ErrorKind::Auth);
  EXPECT_EQ(verify_error(*repo, totp_code(secret, time(nullptr) - 3600)), ErrorKind::Auth) << "an old code";
  EXPECT_EQ(verify_error(*repo, code), ErrorKind::Generic) << "the current code is accepted";
  EXPECT_EQ(verify_error(*r.open(), code), ErrorKind::Auth) << "a spent code, from another handle too";
}

TEST(MfaRules, SecretIsSealedNotReadableWithoutTheKey) {
  MemRepo r;
  auto repo = r.open();
  MfaEnrollment e = mfa_enroll(*repo, "x");
  bool found = false;
  r.mem->list("mfa/", [&](const ObjectInfo& o) {
    std::string raw = as_string(r.mem->get(o.name));
    EXPECT_EQ(raw.find(e.secret_base32), std::string::npos) << o.name << " holds the secret in the clear";
    found = true;
  });
  EXPECT_TRUE(found);
}
