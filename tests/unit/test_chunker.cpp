#include <gtest/gtest.h>

#include <bit>
#include <random>
#include <set>

#include "util/error.h"

#include "chunk/fastcdc.h"
#include "crypto/hash.h"

using namespace arca;

namespace {

Bytes make_random(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes b(n);
  for (auto& c : b) c = uint8_t(rng());
  return b;
}

std::vector<Bytes> chunk_all(const Chunker& c, const Bytes& data) {
  std::vector<Bytes> out;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t n = c.cut(ByteView(data).subspan(pos));
    out.emplace_back(data.begin() + pos, data.begin() + pos + n);
    pos += n;
  }
  return out;
}

Key seed_key(uint8_t v) {
  Key k;
  k.b.fill(v);
  return k;
}

ChunkerParams small() { return {2048, 8192, 32768}; }

}  // namespace

TEST(Chunker, SizesStayWithinBoundsAndCoverInput) {
  Chunker c(small(), seed_key(1));
  Bytes data = make_random(2 << 20, 1);
  auto chunks = chunk_all(c, data);
  size_t total = 0;
  for (size_t i = 0; i < chunks.size(); i++) {
    total += chunks[i].size();
    EXPECT_LE(chunks[i].size(), 32768u);
    if (i + 1 < chunks.size()) {
      EXPECT_GT(chunks[i].size(), 2048u);
    }
  }
  EXPECT_EQ(total, data.size());
  double avg = double(data.size()) / double(chunks.size());
  EXPECT_GT(avg, 8192 * 0.6);
  EXPECT_LT(avg, 8192 * 1.6);
}

TEST(Chunker, BoundariesSurviveInsertionAndDeletion) {
  Chunker c(small(), seed_key(2));
  Bytes data = make_random(1 << 20, 2);
  auto before = chunk_all(c, data);
  Bytes inserted = data;
  Bytes extra = make_random(100, 3);
  inserted.insert(inserted.begin() + 500000, extra.begin(), extra.end());
  Bytes deleted = data;
  deleted.erase(deleted.begin() + 300000, deleted.begin() + 300777);
  for (const Bytes* changed : {&inserted, &deleted}) {
    auto after = chunk_all(c, *changed);
    std::set<std::string> a;
    for (const auto& ch : before) a.insert(as_string(ch));
    size_t shared = 0;
    for (const auto& ch : after) shared += a.count(as_string(ch));
    // Only the chunk(s) around the edit may differ.
    EXPECT_GE(shared + 3, after.size()) << "boundaries did not resynchronise";
    EXPECT_GE(shared + 3, before.size());
  }
}

TEST(Chunker, SeedChangesBoundariesAndIsDeterministic) {
  Bytes data = make_random(1 << 20, 4);
  Chunker a(small(), seed_key(5)), a2(small(), seed_key(5)), b(small(), seed_key(6));
  auto ca = chunk_all(a, data), ca2 = chunk_all(a2, data), cb = chunk_all(b, data);
  EXPECT_EQ(ca, ca2);
  EXPECT_NE(ca, cb);
}

TEST(Chunker, ShortInputIsOneChunk) {
  Chunker c(small(), seed_key(7));
  Bytes data = make_random(1000, 8);
  EXPECT_EQ(c.cut(data), 1000u);
  EXPECT_EQ(c.cut(ByteView()), 0u);
}

TEST(Chunker, RejectsBadParameters) {
  EXPECT_THROW(Chunker(ChunkerParams{1024, 3000, 9000}, seed_key(1)), Error);  // avg not power of two
  EXPECT_THROW(Chunker(ChunkerParams{8192, 4096, 9000}, seed_key(1)), Error);  // min > avg
  EXPECT_THROW(Chunker(ChunkerParams{1024, 4096, 4096}, seed_key(1)), Error);  // max == avg
}

// The chunker's boundaries are part of the format (deduplication across versions depends on
// them): they must equal those of the gear hash exactly as docs/repository-format.md specifies
// it, gear table and masks included.
TEST(Chunker, MatchesTheSpecifiedByteAtATimeGearHash) {
  ChunkerParams p = small();
  Key seed = seed_key(9);
  std::array<uint64_t, 256> gear;
  for (int i = 0; i < 256; i++) {
    uint8_t msg[2] = {uint8_t(i), 0x5a};
    gear[i] = get_u64(hmac_sha256(seed, ByteView(msg, 2)).b.data());
  }
  int bits = std::countr_zero(p.avg_size);
  auto top = [](int n) { return ((uint64_t(1) << n) - 1) << (64 - n); };
  auto reference = [&](ByteView d) -> size_t {
    size_t n = std::min<size_t>(d.size(), p.max_size);
    if (d.size() <= p.min_size) return d.size();
    uint64_t h = 0;
    for (size_t i = p.min_size; i < n; i++) {
      h = (h << 1) + gear[d[i]];
      if (!(h & top(i < p.avg_size ? bits + 2 : bits - 2))) return i + 1;
    }
    return n;
  };
  Chunker c(p, seed);
  // Random data cuts anywhere; low-entropy data reaches the maximum; odd lengths exercise tails.
  Bytes data = make_random(3 << 20, 10);
  for (size_t i = 1 << 20; i < (1 << 20) + 200000; i++) data[i] = uint8_t(i % 3);
  size_t pos = 0, cuts = 0;
  while (pos < data.size()) {
    for (size_t len : {data.size() - pos, std::min<size_t>(data.size() - pos, p.avg_size + 3)}) {
      ByteView d = ByteView(data).subspan(pos, len);
      ASSERT_EQ(c.cut(d), reference(d)) << "at " << pos << ", length " << len;
    }
    pos += c.cut(ByteView(data).subspan(pos));
    cuts++;
  }
  EXPECT_GT(cuts, 100u);
}
