// `arca dr assess` (src/drill/dr_assess.h): the last drill is the newest record of the same drill
// file (its name), never another drill's component of the same name; an unreadable record makes
// the assessment NO-GO instead of letting an older record decide.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "drill/dr_assess.h"
#include "drill/drill_record.h"
#include "ops/backup_files.h"
#include "test_util.h"
#include "util/clock.h"

namespace arca::drill {
namespace {

namespace fs = std::filesystem;

struct DrillAssess : ::testing::Test {
  TempDir tmp;
  std::unique_ptr<Repository> repo;
  DrillSpec spec;
  double now = 0;

  void SetUp() override {
    repo = make_test_repo(tmp.path + "/repo");
    fs::create_directories(tmp.path + "/etc");
    std::ofstream(tmp.path + "/etc/app.conf") << "x";
    ops::BackupFilesRequest req;
    req.paths = {tmp.path + "/etc"};
    JobContext ctx;
    ops::backup_files(*repo, req, ctx);
    now = clock_now_s();
    spec.name = "nightly";
    ComponentSpec c;
    c.name = "config";
    c.kind = ComponentKind::Files;
    c.paths = {tmp.path + "/etc"};
    c.objectives.rto_s = 60;
    spec.components = {c};
  }

  // A recorded drill named `name` whose component "config" took `rto_s`.
  DrillResult record(const std::string& name, char id, double started, double rto_s) {
    DrillResult r;
    r.id = std::string(64, id);
    r.name = name;
    r.started_at = started;
    ComponentResult c;
    c.name = "config";
    c.kind = ComponentKind::Files;
    c.snapshot_id = std::string(64, 'f');
    c.rto_s = rto_s;
    r.components = {c};
    save_drill_record(*repo, r);
    return r;
  }
};

TEST_F(DrillAssess, TheLastDrillIsTheNewestOfTheSameDrillFile) {
  record("nightly", 'a', now - 100, 90);  // over the 60 s objective
  record("smoke", 'b', now - 10, 1);      // newer, fast, but another drill
  Assessment a = assess(spec, *repo, now);
  ASSERT_EQ(a.components.size(), 1u);
  const ComponentAssessment& c = a.components[0];
  EXPECT_EQ(c.last_drill_id, std::string(64, 'a')) << "a smoke drill's component of the same name proves nothing";
  EXPECT_EQ(c.rto_ok, false);
  EXPECT_FALSE(a.go());

  spec.name = "elsewhere";
  Assessment never = assess(spec, *repo, now);
  ASSERT_FALSE(never.components[0].problems.empty());
  EXPECT_NE(never.components[0].problems[0].find("never drilled: no recorded drill elsewhere"), std::string::npos)
      << never.components[0].problems[0];
}

TEST_F(DrillAssess, AnUnreadableRecordIsNoGo) {
  record("nightly", 'a', now - 100, 5);
  EXPECT_TRUE(assess(spec, *repo, now).go());
  // The newest record, damaged: it may be a failure; the older passing one must not decide.
  DrillResult bad = record("nightly", 'c', now - 10, 500);
  std::string file;
  for (const auto& e : fs::recursive_directory_iterator(tmp.path + "/repo"))
    if (e.path().filename() == std::string(64, 'c')) file = e.path().string();
  ASSERT_FALSE(file.empty());
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(40);
    char c = 0;
    f.get(c);
    f.seekp(40);
    f.put(char(c ^ 0x55));  // flipped: a constant would already be there one time in 256
  }
  repo = open_test_repo(tmp.path + "/repo");
  Assessment a = assess(spec, *repo, now);
  EXPECT_FALSE(a.go());
  bool named = false;
  for (const auto& p : a.components[0].problems) named = named || p.find("1 drill record could not be read") == 0;
  EXPECT_TRUE(named) << (a.components[0].problems.empty() ? "" : a.components[0].problems[0]);
}

}  // namespace
}  // namespace arca::drill
