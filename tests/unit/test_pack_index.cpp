#include <gtest/gtest.h>

#include "crypto/random.h"
#include "repo/envelope.h"
#include "repo/index.h"
#include "repo/pack.h"
#include "storage/local_backend.h"
#include "test_util.h"
#include "util/error.h"

using namespace arca;

namespace {
Keyring keys() { return random_keyring(1); }
}  // namespace

TEST(Pack, BuildParseAndReadBlobsBack) {
  TempDir dir;
  Keyring k = keys();
  PackBuilder b(BlobType::Data, dir.path + "/staging", 1 << 20);
  std::vector<Bytes> plains;
  std::vector<Id> ids;
  for (int i = 0; i < 20; i++) {
    Bytes p(1000 + i * 37, uint8_t(i));
    Id id = random_id();
    b.add(id, uint32_t(p.size()), seal(k, 1, p, 3));
    plains.push_back(p);
    ids.push_back(id);
  }
  auto f = b.finish(k);
  LocalBackend be(dir.path + "/repo");
  be.create();
  std::string name = pack_name(f.type, f.id);
  be.put_file(name, f.path);
  Bytes data = be.get(name);
  EXPECT_EQ(data.size(), f.size);
  EXPECT_EQ(pack_id_of(data, name), f.id);
  BlobType t;
  auto blobs = parse_pack_header(k, data, data.size(), name, &t);
  EXPECT_EQ(t, BlobType::Data);
  ASSERT_EQ(blobs.size(), 20u);
  for (size_t i = 0; i < blobs.size(); i++) {
    EXPECT_EQ(blobs[i].id, ids[i]);
    EXPECT_EQ(blobs[i].offset, f.blobs[i].offset);
    Bytes sealed = be.get_range(name, blobs[i].offset, blobs[i].length);
    EXPECT_EQ(unseal(k, sealed, "blob"), plains[i]);
  }
  // A damaged header is detected.
  Bytes bad = data;
  bad[bad.size() - 10] ^= 1;
  EXPECT_THROW(parse_pack_header(k, bad, bad.size(), name), Error);
}

TEST(Index, FileRoundTripAndLookup) {
  std::vector<IndexPack> packs;
  for (int p = 0; p < 5; p++) {
    IndexPack ip{random_id(), p % 2 ? BlobType::Tree : BlobType::Data, {}};
    for (int i = 0; i < 100; i++) ip.blobs.push_back({random_id(), uint32_t(i * 10), 10, 20});
    packs.push_back(ip);
  }
  Bytes enc = encode_index_file(packs);
  auto dec = decode_index_file(enc, "index/x");
  ASSERT_EQ(dec.size(), packs.size());
  Index idx;
  for (const auto& p : dec) idx.add(p);
  idx.add(dec[0]);  // the same pack twice is harmless
  idx.finalize();
  EXPECT_EQ(idx.blob_count(), 500u);
  EXPECT_EQ(idx.pack_count(), 5u);
  for (const auto& p : packs)
    for (const auto& b : p.blobs) {
      auto loc = idx.find(b.id);
      ASSERT_TRUE(loc);
      EXPECT_EQ(loc->pack, p.pack);
      EXPECT_EQ(loc->type, p.type);
      EXPECT_EQ(loc->offset, b.offset);
    }
  EXPECT_FALSE(idx.find(random_id()));
  EXPECT_LE(idx.memory_bytes() / idx.blob_count(), 60u) << "index memory per blob must stay small";
  Bytes truncated(enc.begin(), enc.end() - 5);
  EXPECT_THROW(decode_index_file(truncated, "index/x"), Error);
}
