// Check in-process on the memory backend: a clean repository passes; a damaged pack, index file
// or snapshot, and a missing pack, are found and named.
#include <gtest/gtest.h>

#include "mem_repo.h"
#include "repo/object_names.h"
#include "util/error.h"

using namespace arca;
using namespace arca::testing;

namespace {

std::string first_under(const MemRepo& r, const std::string& prefix) {
  std::string name;
  r.mem->list(prefix, [&](const ObjectInfo& o) {
    if (name.empty()) name = o.name;
  });
  EXPECT_FALSE(name.empty()) << "no object under " << prefix;
  return name;
}

// Flips one byte in the middle of an object, as a failing disk would.
void flip_byte(const MemRepo& r, const std::string& name) {
  Bytes b = r.mem->get(name);
  ASSERT_FALSE(b.empty());
  b[b.size() / 2] ^= 0x40;
  r.mem->overwrite_raw(name, b);
}

bool names_object(const CheckResult& res, const std::string& name) {
  for (const auto& e : res.errors)
    if (e.object.find(name) != std::string::npos || e.message.find(name) != std::string::npos) return true;
  return false;
}

// The damage must also be reported without reading data (structure check) where it is structural.
CheckResult check_or_error(const MemRepo& r, bool read_data) {
  auto repo = r.open();
  return check_all(*repo, read_data);
}

struct Damaged : ::testing::Test {
  MemRepo r;
  Snapshot snap;
  void SetUp() override { snap = save_file_point(*r.open(), {noise(60000), noise(60000)}); }
};

}  // namespace

TEST_F(Damaged, CleanRepositoryPasses) {
  auto res = check_or_error(r, true);
  EXPECT_TRUE(res.ok());
  EXPECT_EQ(res.snapshots, 1u);
  EXPECT_GE(res.packs, 2u);  // a data pack and a tree pack
}

TEST_F(Damaged, DamagedDataPackIsFoundWhenReadingData) {
  std::string pack = first_under(r, names::kDataPacksPrefix);
  flip_byte(r, pack);
  auto res = check_or_error(r, true);
  EXPECT_FALSE(res.ok());
  EXPECT_TRUE(names_object(res, names::parse_pack(pack)->id.hex().substr(0, 8))) << "the pack is named";
  EXPECT_FALSE(res.affected.empty()) << "the file it damages is named";
}

TEST_F(Damaged, MissingPackIsFoundWithoutReadingData) {
  std::string pack = first_under(r, names::kDataPacksPrefix);
  r.mem->remove(pack);
  auto res = check_or_error(r, false);
  EXPECT_FALSE(res.ok());
  EXPECT_TRUE(names_object(res, names::parse_pack(pack)->id.hex().substr(0, 8)));
}

TEST_F(Damaged, DamagedIndexFileIsFoundAndNamed) {
  std::string index = first_under(r, names::kIndexPrefix);
  flip_byte(r, index);
  auto res = check_or_error(r, false);
  EXPECT_FALSE(res.ok());
  EXPECT_TRUE(names_object(res, names::parse_index_file(index)->hex().substr(0, 8)));
}

TEST_F(Damaged, DamagedSnapshotIsFoundAndNamed) {
  flip_byte(r, names::snapshot(snap.id));
  auto res = check_or_error(r, false);
  EXPECT_FALSE(res.ok());
  EXPECT_TRUE(names_object(res, snap.id.hex().substr(0, 8)));
}
