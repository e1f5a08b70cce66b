// ops::prune runs the sweep of every out-of-pack object family (repo/object_families.h) after
// the packs, and reports the WAL family's under the names prune --json has always used.
#include <gtest/gtest.h>

#include "mem_repo.h"
#include "ops/prune.h"
#include "repo/object_names.h"

using namespace arca;
using namespace arca::testing;

namespace {

TEST(OpsPrune, SweepsTheObjectFamiliesAndReportsTheWalOne) {
  MemRepo m;
  auto repo = m.open();
  auto put = [&](const std::string& name) {
    repo->save_object(name, as_view(std::string("wal")));
    return name;
  };
  std::vector<std::string> doomed = {put(names::wal_file(42, 1, "000000010000000000000002")),
                                     put(names::wal_piece(42, 1, "000000010000000000000001", 0))};
  std::vector<std::string> kept = {put(names::wal_file(42, 1, "00000001.history")),
                                   put(names::wal_file(42, 1, "000000010000000000000003")),
                                   put(names::wal_file(43, 1, "000000010000000000000001"))};
  // A base backup of system 42 whose WAL starts in segment 3.
  Snapshot base = save_file_point(*repo, {noise(1000)});
  base.id = Id();  // a second point on the same tree
  base.source_kind = "postgres";
  base.metadata = {{"system_id", {{"type", "string"}, {"value", "42"}}},
                   {"wal_segment_size", {{"type", "int"}, {"value", 16 << 20}}},
                   {"start_lsn", {{"type", "lsn"}, {"value", "0/3000028"}}}};
  repo->save_snapshot(base);

  for (bool dry_run : {true, false}) {
    JobContext ctx;
    ops::PruneRequest req;
    req.grace = "0";
    req.dry_run = dry_run;
    auto r = ops::prune(*repo, req, ctx);
    ASSERT_EQ(r.sweeps.size(), 1u);
    EXPECT_EQ(r.sweeps[0].first, "wal");
    auto j = r.to_json();
    EXPECT_EQ(j["wal_objects_deleted"], doomed.size()) << dry_run;
    EXPECT_EQ(j["wal_bytes_deleted"], doomed.size() * m.mem->stat(kept[0])->size) << dry_run;
    ASSERT_EQ(j["notes"].size(), 1u) << j.dump();
    EXPECT_NE(j["notes"][0].get<std::string>().find("000000000000002b has no base backup left"), std::string::npos);
    for (const auto& n : doomed) EXPECT_EQ(m.mem->stat(n).has_value(), dry_run) << n;
    for (const auto& n : kept) EXPECT_TRUE(m.mem->stat(n)) << n;
  }
}

}  // namespace
