// BlobWriter in-process on the memory backend: deduplication within and across sessions, packs
// sealed at the configured size and indexed, and the publish check that refuses a recovery
// point whose reused pack vanished while the session started.
#include <gtest/gtest.h>

#include <set>

#include "mem_repo.h"
#include "repo/object_names.h"
#include "util/error.h"

using namespace arca;
using namespace arca::testing;

namespace {

size_t count_under(const MemRepo& r, const std::string& prefix) {
  size_t n = 0;
  r.mem->list(prefix, [&](const ObjectInfo&) { n++; });
  return n;
}

}  // namespace

TEST(BlobWriter, DeduplicatesWithinAndAcrossSessions) {
  MemRepo r;
  auto repo = r.open();
  Bytes x = noise(30000);
  Id id = repo->blob_id(x);
  {
    BlobWriter w(*repo);
    EXPECT_FALSE(w.known(id));
    EXPECT_TRUE(w.add(BlobType::Data, id, x));
    EXPECT_TRUE(w.known(id));
    EXPECT_FALSE(w.add(BlobType::Data, id, x)) << "the same blob twice in one session";
    w.flush();
    EXPECT_EQ(w.blobs_added(), 1u);
  }
  size_t packs = count_under(r, names::kDataPacksPrefix);
  EXPECT_EQ(packs, 1u);
  auto again = r.open();
  BlobWriter w(*again);
  EXPECT_TRUE(w.known(id)) << "a later session finds it in the index";
  EXPECT_FALSE(w.add(BlobType::Data, id, x));
  w.flush();
  EXPECT_EQ(w.blobs_added(), 0u);
  EXPECT_EQ(count_under(r, names::kDataPacksPrefix), packs) << "nothing stored twice";
  EXPECT_TRUE(again->read_blob(id) == x);
}

TEST(BlobWriter, SealsPacksAtTheConfiguredSizeAndIndexesThem) {
  MemRepo r;  // 256 KiB data packs
  auto repo = r.open();
  std::vector<Bytes> blobs;
  {
    BlobWriter w(*repo);
    for (int i = 0; i < 20; i++) {
      blobs.push_back(noise(50000));  // incompressible: ~1 MB in all
      w.add(BlobType::Data, repo->blob_id(blobs.back()), blobs.back());
    }
    w.flush();
  }
  std::vector<uint64_t> sizes;
  r.mem->list(names::kDataPacksPrefix, [&](const ObjectInfo& o) { sizes.push_back(o.size); });
  EXPECT_GE(sizes.size(), 3u) << "1 MB in 256 KiB packs";
  for (uint64_t s : sizes) EXPECT_LE(s, 256u * 1024 + 64 * 1024) << "a pack much larger than its target";
  EXPECT_GE(count_under(r, names::kIndexPrefix), 1u);
  auto fresh = r.open();
  for (const auto& b : blobs) {
    Id id = fresh->blob_id(b);
    ASSERT_TRUE(fresh->index().has(id)) << "every blob is indexed after flush";
    EXPECT_TRUE(fresh->read_blob(id) == b);
  }
  EXPECT_TRUE(check_clean(*fresh, "after sealing packs"));
}

TEST(BlobWriter, NothingIsIndexedBeforeFlush) {
  MemRepo r;
  auto repo = r.open();
  Bytes x = noise(1000);
  BlobWriter w(*repo);
  w.add(BlobType::Data, repo->blob_id(x), x);
  EXPECT_EQ(count_under(r, names::kIndexPrefix), 0u);
  w.flush();
  EXPECT_EQ(count_under(r, names::kIndexPrefix), 1u);
}

// A session that read the index, then found (when it registered) that a prune had rewritten the
// index and deleted a pack it reuses data from, must not publish: the point would need lost data.
TEST(BlobWriter, RefusesToPublishWhenAReusedPackVanished) {
  MemRepo r;
  Bytes x = noise(40000);
  save_file_point(*r.open(), {x});
  auto late = r.open();
  late->index();  // the session's view: before the prune
  {
    // What a `prune --grace 0` did meanwhile: x's pack deleted, the index rewritten without it.
    std::vector<std::string> doomed;
    r.mem->list(names::kDataPacksPrefix, [&](const ObjectInfo& o) { doomed.push_back(o.name); });
    r.mem->list(names::kIndexPrefix, [&](const ObjectInfo& o) { doomed.push_back(o.name); });
    r.mem->list(names::kSnapshotsPrefix, [&](const ObjectInfo& o) { doomed.push_back(o.name); });
    for (const auto& n : doomed) r.mem->remove(n);
  }
  try {
    save_file_point(*late, {x});
    FAIL() << "published a recovery point whose data pack is gone";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Conflict) << e.what();
    EXPECT_NE(std::string(e.what()).find("were deleted by a prune"), std::string::npos) << e.what();
  }
  EXPECT_EQ(count_under(r, names::kSnapshotsPrefix), 0u);
}

TEST(BlobWriter, AFailedPackUploadFailsTheSessionAndPublishesNothing) {
  MemRepo r;
  FaultBackend* f;
  auto repo = r.open(&f);
  f->fail_on(BackendCall::PutFile, 1, ErrorKind::NoSpace, names::kDataPacksPrefix);
  try {
    save_file_point(*repo, {noise(40000)});
    FAIL() << "a session whose pack upload failed published";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NoSpace) << e.what();
  }
  EXPECT_EQ(count_under(r, names::kSnapshotsPrefix), 0u);
  EXPECT_TRUE(check_clean(*r.open(), "after a failed upload"));
}
