// Backup registrations (writers/, repo/writer_sessions.h) that crashed processes left, in-process
// (in place of e2e steps that slowed a backup down with an environment variable and killed it):
// prune --grace 0 and unlock remove a dead process's registration; nothing removes the one of a
// backup running in this process, not even unlock --remove-all; it goes when the backup ends.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "mem_repo.h"
#include "ops/locks.h"
#include "ops/prune.h"
#include "repo/object_names.h"
#include "repo/writer_sessions.h"
#include "test_util.h"
#include "util/clock.h"
#include "util/host.h"

using namespace arca;
using namespace arca::testing;

namespace {

// What a backup of this host killed with -9 leaves: its registration.
std::string crashed_backup_registration(Repository& repo) {
  nlohmann::json rec = {
      {"host", local_hostname()}, {"domain", process_domain()}, {"pid", dead_pid()}, {"started", now_rfc3339()}};
  std::string name = names::writer_session(random_id());
  repo.save_object(name, as_view(rec.dump()));
  return name;
}

TEST(WriterRegistrations, ImmediatePruneRemovesACrashedBackupsRegistration) {
  MemRepo m;
  auto repo = m.open();
  save_file_point(*repo, {noise(1000)});
  std::string stale = crashed_backup_registration(*repo);
  ASSERT_EQ(list_writers(*repo).size(), 1u);
  JobContext ctx;
  ops::PruneRequest req;
  req.grace = "0";
  ops::prune(*repo, req, ctx);  // not refused: the registration's process is gone
  EXPECT_TRUE(list_writers(*repo).empty());
  EXPECT_FALSE(m.mem->stat(stale));
  EXPECT_TRUE(check_clean(*m.open(), "after prune --grace 0"));
}

TEST(WriterRegistrations, UnlockRemovesACrashedBackupsAndKeepsARunningOne) {
  MemRepo m;
  auto repo = m.open();
  std::string stale = crashed_backup_registration(*repo);
  {
    BlobWriter running(*repo);  // a backup under way in this process
    JobContext ctx;
    auto r = ops::unlock(*repo, false, ctx);
    EXPECT_EQ(r.removed, 1u);
    ASSERT_EQ(r.kept.size(), 1u);
    EXPECT_NE(r.kept[0].find("backup registration"), std::string::npos) << r.kept[0];
    EXPECT_FALSE(m.mem->stat(stale));
    // Not even --remove-all removes a registration of a process running on this host: a grace-0
    // prune could then delete that backup's data.
    auto all = ops::unlock(*repo, true, ctx);
    EXPECT_EQ(all.removed, 0u);
    EXPECT_EQ(list_writers(*repo).size(), 1u);
  }
  EXPECT_TRUE(list_writers(*repo).empty()) << "the backup's registration outlived it";
}

}  // namespace
