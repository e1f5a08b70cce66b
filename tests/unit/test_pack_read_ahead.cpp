#include <gtest/gtest.h>

#include "repo/pack_read_ahead.h"
#include "storage/local_backend.h"
#include "test_util.h"
#include "util/error.h"

using namespace arca;

namespace {

// Counts the windows fetched.
struct CountingBackend : LocalBackend {
  using LocalBackend::LocalBackend;
  mutable int fetches = 0;
  Bytes get_range_upto(const std::string& name, uint64_t offset, uint64_t length) const override {
    fetches++;
    return LocalBackend::get_range_upto(name, offset, length);
  }
};

struct Fixture {
  TempDir dir;
  CountingBackend backend{dir.path + "/repo"};
  Bytes pack;
  Fixture() {
    backend.create();
    pack.resize(10000);
    for (size_t i = 0; i < pack.size(); i++) pack[i] = uint8_t(i * 7 + i / 256);
    backend.put("data/p", pack);
  }
  Bytes expected(uint64_t offset, uint64_t length) const {
    return Bytes(pack.begin() + long(offset), pack.begin() + long(offset + length));
  }
};

Bytes bytes_of(const PackReadAhead::Slice& s) { return Bytes(s.view.begin(), s.view.end()); }

}  // namespace

TEST(PackReadAhead, RangesInsideAWindowAreViewsOfItAndSpanningRangesAreAssembled) {
  Fixture fx;
  PackReadAhead ra(fx.backend, 4096, 4);
  auto a = ra.read("data/p", 100, 500), b = ra.read("data/p", 600, 3000);
  EXPECT_EQ(bytes_of(a), fx.expected(100, 500));
  EXPECT_EQ(bytes_of(b), fx.expected(600, 3000));
  // Both lie in window 0: no copy, one shared buffer, held alive by the slices.
  EXPECT_EQ(a.owner, b.owner);
  EXPECT_EQ(a.view.data() + 500, b.view.data());
  auto c = ra.read("data/p", 4000, 5000);  // windows 0, 1 and 2
  EXPECT_EQ(bytes_of(c), fx.expected(4000, 5000));
  EXPECT_NE(c.owner, a.owner);
  auto end = ra.read("data/p", 8192, 1808);  // the last, short window
  EXPECT_EQ(bytes_of(end), fx.expected(8192, 1808));
  EXPECT_TRUE(ra.read("data/p", 5, 0).view.empty());
}

TEST(PackReadAhead, ARangePastTheEndOfThePackIsAnError) {
  Fixture fx;
  PackReadAhead ra(fx.backend, 4096, 4);
  EXPECT_THROW(ra.read("data/p", 9000, 2000), Error);  // inside the last window
  EXPECT_THROW(ra.read("data/p", 4000, 7000), Error);  // spanning windows
  EXPECT_THROW(ra.read("data/missing", 0, 10), Error);
  EXPECT_EQ(bytes_of(ra.read("data/p", 9000, 1000)), fx.expected(9000, 1000));  // still usable
}

TEST(PackReadAhead, EvictsTheWindowWhoseNextExpectedReadComesLast) {
  Fixture fx;
  // Two slots; windows 0, 1, 2 read in the order 0, 1, 2, 0 (a pack whose first blobs belong to
  // a file restored again later). Least recently used would evict window 0 for window 2 and
  // fetch it twice; knowing the order, window 1 (not needed again) goes instead.
  auto run = [&](bool announce) {
    fx.backend.fetches = 0;
    PackReadAhead ra(fx.backend, 4096, 2);
    std::vector<std::pair<uint64_t, uint64_t>> reads = {{10, 100}, {4100, 100}, {8200, 100}, {200, 100}};
    if (announce)
      for (auto [off, len] : reads) ra.expect("data/p", off, len);
    for (auto [off, len] : reads) EXPECT_EQ(bytes_of(ra.read("data/p", off, len)), fx.expected(off, len));
    return fx.backend.fetches;
  };
  EXPECT_EQ(run(false), 4);
  EXPECT_EQ(run(true), 3);
}

TEST(PackReadAhead, ReadsNeverAnnouncedCountOffNothing) {
  Fixture fx;
  PackReadAhead ra(fx.backend, 4096, 2);
  ra.expect("data/p", 10, 100);
  ra.read("data/p", 20, 100);  // the same window, not announced: window 0 is still needed
  ra.read("data/p", 4100, 100);
  ra.read("data/p", 8200, 100);  // evicts window 1, which nothing announced
  EXPECT_EQ(bytes_of(ra.read("data/p", 10, 100)), fx.expected(10, 100));
  EXPECT_EQ(fx.backend.fetches, 3);
}

TEST(PackReadAhead, AnnouncedReadsNeverMadeStopHoldingTheirWindow) {
  Fixture fx;
  PackReadAhead ra(fx.backend, 4096, 2);
  ra.expect("data/p", 10, 100);  // its file fails: never read
  ra.read("data/p", 20, 100);
  for (int i = 0; i < 5000; i++) {  // thousands of announced reads made since
    ra.expect("data/p", 4100, 100);
    ra.read("data/p", 4100, 100);
  }
  ra.read("data/p", 8200, 100);  // evicts window 0 (least recently used), not window 1
  ra.read("data/p", 4100, 100);
  EXPECT_EQ(fx.backend.fetches, 3);
  // And once the reader says it is done, nothing it announced holds a window either.
  ra.expect("data/p", 20, 100);
  ra.forget_expected();
  ra.read("data/p", 30, 100);    // window 0 again (fetch 4), evicting window 2
  ra.read("data/p", 4100, 100);  // cached
  EXPECT_EQ(fx.backend.fetches, 4);
}
