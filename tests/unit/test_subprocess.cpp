// Child processes start with the signals a server needs to stop them, whatever our threads block.
#include <pthread.h>
#include <signal.h>

#include <chrono>

#include <gtest/gtest.h>

#include "util/subprocess.h"

namespace arca {
namespace {

// `arca server` blocks SIGTERM in every thread (one thread takes it with sigtimedwait). A scratch
// Redis or PostgreSQL server started from a job must still stop on SIGTERM, not wait for SIGKILL.
TEST(Subprocess, AChildStopsOnSigtermEvenWhenTheParentBlocksIt) {
  sigset_t term, old;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &term, &old), 0);
  Subprocess child({"sleep", "20"}, Subprocess::Stdout::Null);
  ASSERT_EQ(pthread_sigmask(SIG_SETMASK, &old, nullptr), 0);
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(child.pid(), SIGTERM), 0);
  int status = child.wait();
  EXPECT_EQ(status, 128 + SIGTERM);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

}  // namespace
}  // namespace arca
