// A long-lived repository handle (Repository::refresh): opened once, one key derivation, and it
// sees what other handles wrote once it refreshes.
#include <gtest/gtest.h>

#include <ctime>

#include "mem_repo.h"
#include "repo/key_files.h"
#include "repo/pack.h"
#include "repo/prune_marks.h"
#include "util/clock.h"

namespace arca {
namespace {

using namespace arca::testing;

TEST(RepositoryRefresh, SeesOtherHandlesWritesAfterRefreshWithoutDerivingKeysAgain) {
  MemRepo m;
  uint64_t before = key_derivations();
  auto writer = m.open();
  auto daemon = m.open();
  EXPECT_EQ(key_derivations() - before, 2u) << "one key derivation per open";

  EXPECT_EQ(daemon->index().blob_count(), 0u);  // loaded (empty) and cached by the handle
  std::vector<Bytes> chunks = {noise(3000), noise(4000)};
  Snapshot s = save_file_point(*writer, chunks);
  Id blob = writer->blob_id(chunks[0]);
  EXPECT_FALSE(daemon->index().has(blob)) << "the cached index does not change by itself";

  daemon->refresh();
  EXPECT_TRUE(daemon->index().has(blob));
  EXPECT_TRUE(daemon->index().usable(blob));
  EXPECT_EQ(read_file_point(*daemon, daemon->find_snapshot(s.id.hex())), concat(chunks));

  // The condemned set: a prune mark written by another handle.
  auto loc = daemon->index().find(blob);
  ASSERT_TRUE(loc);
  PruneMark mark;
  mark.created = now_rfc3339();
  mark.created_unix = time(nullptr);
  mark.grace_s = 3600;
  mark.packs = {pack_name(loc->type, loc->pack)};
  save_prune_mark(*writer, mark);
  EXPECT_FALSE(daemon->index().condemned(loc->pack));
  daemon->refresh();
  EXPECT_TRUE(daemon->index().condemned(loc->pack));
  EXPECT_FALSE(daemon->index().usable(blob)) << "new data must not deduplicate against a condemned pack";

  // The keyring: a point sealed with a data key version another handle added.
  writer->rotate_data_key();
  Bytes later = noise(2000);
  Snapshot s2 = save_file_point(*writer, {later});
  EXPECT_THROW(daemon->find_snapshot(s2.id.hex()), Error) << "version 2 is not known to the handle yet";
  daemon->refresh();
  EXPECT_EQ(daemon->keys().current_version(), 2u);
  EXPECT_EQ(read_file_point(*daemon, daemon->find_snapshot(s2.id.hex())), later);

  EXPECT_EQ(key_derivations() - before, 2u) << "refresh derives no key";
  EXPECT_TRUE(check_clean(*daemon));
}

}  // namespace
}  // namespace arca
