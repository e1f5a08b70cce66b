// A TOTP code is spent once, also on stores whose create-if-absent is check-then-write (Swift,
// Ceph RGW versioned buckets): two concurrent releases must not both use one code.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <thread>

#include "crypto/totp.h"
#include "repo/mfa.h"
#include "test_util.h"
#include "util/error.h"

using namespace arca;

namespace {

// Holds each writer after its existence check until the other has checked too: the
// interleaving a store without conditional writes allows.
struct Gate {
  std::mutex m;
  std::condition_variable cv;
  int arrived = 0;
  void meet() {
    std::unique_lock l(m);
    arrived++;
    cv.notify_all();
    cv.wait_for(l, std::chrono::seconds(2), [&] { return arrived >= 2; });
  }
};

class CheckThenPut : public LocalBackend {
 public:
  CheckThenPut(std::string root, Gate* gate) : LocalBackend(std::move(root)), gate_(gate) {}
  bool atomic_put_if_absent() override { return false; }
  bool put_if_absent(const std::string& name, ByteView data) override {
    bool exists = stat(name).has_value();
    if (gate_ && name.rfind("mfa/", 0) == 0 && name != "mfa/totp") gate_->meet();
    if (exists) return false;
    put(name, data);
    return true;
  }

 private:
  Gate* gate_;
};

std::unique_ptr<Repository> open_on(const std::string& path, Gate* gate) {
  Credentials c;
  c.passphrase = "pw";
  return Repository::open(std::make_unique<CheckThenPut>(path, gate), c);
}

std::string current_code(const MfaEnrollment& e) { return totp_code(base32_decode(e.secret_base32), time(nullptr)); }

bool spends(Repository& repo, const std::string& code) {
  try {
    mfa_verify(repo, code);
    return true;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Auth) << e.what();
    return false;
  }
}

}  // namespace

TEST(MfaSingleUse, CodeSpentOnceWithoutConditionalWrites) {
  TempDir dir;
  auto made = make_test_repo(dir.path + "/repo");
  MfaEnrollment e = mfa_enroll(*made, "test");
  auto repo = open_on(dir.path + "/repo", nullptr);
  std::string code = current_code(e);
  EXPECT_TRUE(spends(*repo, code));
  EXPECT_FALSE(spends(*repo, code));
}

TEST(MfaSingleUse, ConcurrentReleasesCannotBothUseOneCode) {
  TempDir dir;
  auto made = make_test_repo(dir.path + "/repo");
  MfaEnrollment e = mfa_enroll(*made, "test");
  Gate gate;
  auto a = open_on(dir.path + "/repo", &gate);
  auto b = open_on(dir.path + "/repo", &gate);
  std::string code = current_code(e);
  std::atomic<int> spent{0};
  std::thread ta([&] { spent += spends(*a, code); });
  std::thread tb([&] { spent += spends(*b, code); });
  ta.join();
  tb.join();
  EXPECT_LE(spent.load(), 1) << "one TOTP code released two locks";
  auto later = open_on(dir.path + "/repo", nullptr);
  EXPECT_FALSE(spends(*later, code)) << "a code that a release claimed was accepted again";
}
