// Cancellation in the lower layers: the helpers wake up on a cancel, and backup, check and prune
// stop within a second of a cancel from another thread, throw Error(Cancelled), publish nothing,
// leave no staging file, and leave a repository that passes check and takes the next run.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "crypto/random.h"
#include "mem_repo.h"
#include "repo/check.h"
#include "repo/config.h"
#include "repo/prune.h"
#include "sources/files/backup.h"
#include "test_util.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/parallel_for.h"

using namespace arca;
using arca::testing::check_clean;
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

// The promise is one second; the limit leaves room for unoptimized test builds on a loaded host,
// where the unit a cancel waits for (one 16 MiB pack read by check, one chunk) is slowest.
constexpr double kLimitS = 1.5;

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Runs `op` on this thread, cancels `token` from another once `ready()` holds (polled every
// millisecond); returns the seconds from the cancel to the end of `op` (negative if `op` ended
// before the cancel) and whether `op` threw Error(Cancelled). Any other exception fails the test.
struct Outcome {
  double latency_s = -1;
  bool cancelled = false;
};
template <typename Ready, typename F>
Outcome cancel_when(CancelToken& token, Ready ready, F op) {
  std::atomic<int64_t> cancelled_at{0};
  std::atomic<bool> done{false};
  std::thread canceller([&] {
    while (!done && !ready()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (done) return;
    cancelled_at = Clock::now().time_since_epoch().count();
    token.cancel();
  });
  Outcome o;
  try {
    op();
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::Cancelled) {
      done = true;
      canceller.join();
      throw;
    }
    o.cancelled = true;
  }
  auto end = Clock::now();
  done = true;
  canceller.join();
  if (cancelled_at) o.latency_s = seconds(end - Clock::time_point(Clock::duration(cancelled_at.load())));
  return o;
}

// Cancels after `delay`, for operations whose progress the test cannot observe.
template <typename F>
Outcome cancel_after(CancelToken& token, std::chrono::milliseconds delay, F op) {
  auto until = Clock::now() + delay;
  return cancel_when(token, [until] { return Clock::now() >= until; }, op);
}

// Files of random bytes (nothing deduplicates or compresses): enough to keep a backup busy.
void make_data(const std::string& dir, int files, size_t bytes_each) {
  fs::create_directories(dir);
  Bytes b(bytes_each);
  for (int i = 0; i < files; i++) {
    random_bytes(b);
    std::ofstream(dir + "/f" + std::to_string(i), std::ios::binary)
        .write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
  }
}

size_t staging_files(const std::string& repo_dir) {
  size_t n = 0;
  std::error_code ec;
  if (fs::exists(repo_dir + "/tmp"))
    for (auto it = fs::recursive_directory_iterator(repo_dir + "/tmp", ec); it != fs::recursive_directory_iterator();
         ++it)
      n += it->is_regular_file();
  return n;
}

// Packs of 2 MiB: an unoptimized build spends most of a pack read allocating and freeing its
// buffer, which no cancel interrupts; small packs keep that unit short.
std::unique_ptr<Repository> make_repo(const std::string& path) {
  LocalBackend b(path);
  Credentials c;
  c.passphrase = "pw";
  InitOptions o;
  o.kdf = {1, 8, 1};
  o.data_pack_size = 2 << 20;
  Repository::init(b, c, o);
  return Repository::open(std::make_unique<LocalBackend>(path), c);
}

Snapshot backup(Repository& repo, const std::string& data, const CancelToken* cancel = nullptr) {
  BackupOptions o;
  o.paths = {data};
  o.threads = 2;
  o.cancel = cancel;
  ProgressCounters p;
  return backup_files(repo, o, p);
}

}  // namespace

TEST(CancelHelpers, SleepWakesUpOnCancel) {
  CancelToken t;
  auto start = Clock::now();
  std::thread c([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    t.cancel();
  });
  EXPECT_FALSE(sleep_unless_cancelled(std::chrono::seconds(10), &t));
  c.join();
  EXPECT_LT(seconds(Clock::now() - start), 0.5);
  EXPECT_TRUE(sleep_unless_cancelled(std::chrono::milliseconds(1), nullptr));
}

TEST(CancelHelpers, AwaitReadableThrowsOnCancel) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  CancelToken t;
  auto o = cancel_after(t, std::chrono::milliseconds(50), [&] { await_readable(fds[0], &t, "reading"); });
  EXPECT_TRUE(o.cancelled);
  EXPECT_GE(o.latency_s, 0);
  EXPECT_LT(o.latency_s, 0.3);
  close(fds[0]);
  close(fds[1]);
}

TEST(CancelHelpers, ParallelForStopsTakingItems) {
  CancelToken t;
  std::atomic<size_t> ran{0};
  try {
    parallel_for(
        1000, 4,
        [&](size_t) {
          if (++ran == 10) t.cancel();
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        },
        &t, "the loop");
    FAIL() << "no Cancelled error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Cancelled);
    EXPECT_STREQ(e.what(), "the loop cancelled");
  }
  EXPECT_LT(ran.load(), 20u);
  // Without a token, or one never cancelled, everything runs.
  ran = 0;
  CancelToken never;
  parallel_for(
      100, 4, [&](size_t) { ran++; }, &never);
  EXPECT_EQ(ran.load(), 100u);
}

// The files backup stops within a second, publishes nothing, leaves no staging file; the
// repository passes check and the next backup succeeds.
TEST(CancelFiles, BackupStopsPublishesNothing) {
  TempDir t;
  make_data(t.path + "/data", 24, 4 << 20);
  auto repo = make_repo(t.path + "/repo");
  CancelToken token;
  auto o = cancel_after(token, std::chrono::milliseconds(150), [&] { backup(*repo, t.path + "/data", &token); });
  ASSERT_TRUE(o.cancelled) << "the backup ended before the cancel: more data needed";
  std::printf("cancel latency files backup: %.3f s\n", o.latency_s);
  EXPECT_LT(o.latency_s, kLimitS);
  EXPECT_TRUE(open_test_repo(t.path + "/repo")->list_snapshots().empty());
  EXPECT_EQ(staging_files(t.path + "/repo"), 0u);
  check_clean(*open_test_repo(t.path + "/repo"));
  backup(*open_test_repo(t.path + "/repo"), t.path + "/data");
  EXPECT_EQ(open_test_repo(t.path + "/repo")->list_snapshots().size(), 1u);
}

TEST(CancelFiles, CancelledBeforeStartThrowsAtOnce) {
  TempDir t;
  make_data(t.path + "/data", 1, 1000);
  auto repo = make_repo(t.path + "/repo");
  CancelToken token;
  token.cancel();
  try {
    backup(*repo, t.path + "/data", &token);
    FAIL() << "no Cancelled error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Cancelled);
  }
  EXPECT_TRUE(open_test_repo(t.path + "/repo")->list_snapshots().empty());
  check_clean(*open_test_repo(t.path + "/repo"));
}

TEST(CancelCheck, ReadDataStopsWithinASecond) {
  TempDir t;
  make_data(t.path + "/data", 24, 4 << 20);
  auto repo = make_repo(t.path + "/repo");
  backup(*repo, t.path + "/data");
  CancelToken token;
  // Cancelled once it has read data, not after a delay: a host with SHA-NI reads all 96 MiB
  // in less than 100 ms.
  ProgressCounters p;
  auto o = cancel_when(token, [&] { return p.bytes_done > 0; }, [&] {
    CheckOptions c;
    c.read_data = true;
    c.threads = 2;
    c.cancel = &token;
    check_repository(*repo, c, p);
  });
  ASSERT_TRUE(o.cancelled) << "check ended before the cancel: more data needed";
  std::printf("cancel latency check --read-data: %.3f s\n", o.latency_s);
  EXPECT_LT(o.latency_s, kLimitS);
}

// Prune cancelled at many moments (before, during and after the steps that change the
// repository): each time it stops or finishes, and the repository passes check; a prune at the
// end finishes the work.
TEST(CancelPrune, AnyMomentLeavesARepositoryThatChecks) {
  TempDir t;
  std::string path = t.path + "/repo";
  make_repo(path);
  std::vector<std::string> ids;
  for (int round = 0; round < 6; round++) {
    make_data(t.path + "/data" + std::to_string(round), 6, 1 << 20);
    ids.push_back(backup(*open_test_repo(path), t.path + "/data" + std::to_string(round)).id.hex());
  }
  // Forget most points: their packs become garbage (and partly-used packs repack).
  for (size_t i = 0; i + 1 < ids.size(); i++) open_test_repo(path)->backend().remove("snapshots/" + ids[i]);
  int stopped = 0;
  for (int delay_ms : {0, 5, 20, 50, 100, 200}) {
    CancelToken token;
    auto o = cancel_after(token, std::chrono::milliseconds(delay_ms), [&] {
      PruneOptions po;
      po.grace_s = 0;
      po.threads = 2;
      po.cancel = &token;
      ProgressCounters p;
      auto repo = open_test_repo(path);
      prune_repository(*repo, po, p);
    });
    if (o.cancelled) {
      stopped++;
      std::printf("cancel latency prune (after %d ms): %.3f s\n", delay_ms, o.latency_s);
      EXPECT_LT(o.latency_s, kLimitS);
    }
    check_clean(*open_test_repo(path));
    EXPECT_EQ(staging_files(path), 0u);
  }
  EXPECT_GE(stopped, 1);  // at least the one cancelled before it started
  PruneOptions po;
  po.grace_s = 0;
  ProgressCounters p;
  prune_repository(*open_test_repo(path), po, p);
  check_clean(*open_test_repo(path));
  EXPECT_EQ(open_test_repo(path)->list_snapshots().size(), 1u);
}
