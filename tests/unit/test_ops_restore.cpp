// ops::restore_files in process (a small point restored into a temp directory, byte for byte;
// a cancelled job; a selection that finds nothing) and the one table of restore outcomes.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "mem_repo.h"
#include "ops/restore_files.h"
#include "ops/restore_outcome.h"
#include "test_util.h"

using namespace arca;
using namespace arca::testing;

namespace {

Bytes read_path(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

ops::RestoreFilesRequest request_into(const std::string& dir) {
  ops::RestoreFilesRequest req;
  req.snapshot = "latest";
  req.options.target = dir;
  req.options.threads = 2;
  return req;
}

RestoreProblem damage(const std::string& path) { return {path, "blob missing", RestoreProblemSource::Repository}; }
RestoreProblem refused(const std::string& path) { return {path, "Permission denied", RestoreProblemSource::Target}; }

}  // namespace

TEST(OpsRestoreFiles, RestoresAPointByteForByte) {
  MemRepo mr;
  auto repo = mr.open();
  std::vector<Bytes> chunks = {noise(100000), noise(70000)};
  Snapshot saved = save_file_point(*repo, chunks);
  TempDir dir;
  auto req = request_into(dir.path + "/out");
  JobContext ctx;
  Snapshot snap = ops::resolve_restore_point(*repo, req);
  EXPECT_EQ(snap.id, saved.id);
  auto r = ops::restore_files(*repo, snap, req, ctx);
  EXPECT_EQ(r.verdict.outcome, RestoreOutcome::Ok);
  EXPECT_EQ(r.exit_code(), 0);
  EXPECT_EQ(r.files.files, 1u);
  EXPECT_EQ(read_path(dir.path + "/out/f"), concat(chunks));
  auto j = r.to_json();
  EXPECT_EQ(j["snapshot"], saved.id.hex());
  EXPECT_EQ(j["files"], 1);
  EXPECT_EQ(j["interrupted"], false);
  EXPECT_EQ(r.options.cancel, nullptr);  // the job's token is not kept past the call
}

TEST(OpsRestoreFiles, CancelledJobLeavesNoFileUnderItsNameAndExits130) {
  MemRepo mr;
  auto repo = mr.open();
  save_file_point(*repo, {noise(50000)});
  TempDir dir;
  auto req = request_into(dir.path + "/out");
  JobContext ctx;
  ctx.cancel.cancel();
  auto r = ops::restore_files(*repo, ops::resolve_restore_point(*repo, req), req, ctx);
  EXPECT_TRUE(r.files.interrupted);
  EXPECT_EQ(r.verdict.outcome, RestoreOutcome::Interrupted);
  EXPECT_EQ(r.exit_code(), 130);
  EXPECT_FALSE(std::filesystem::exists(dir.path + "/out/f"));
  EXPECT_EQ(r.to_json()["interrupted"], true);
}

TEST(OpsRestoreFiles, IncludeMatchingNothingIsNotFound) {
  MemRepo mr;
  auto repo = mr.open();
  save_file_point(*repo, {noise(1000)});
  TempDir dir;
  auto req = request_into(dir.path + "/out");
  req.options.includes = {"no-such-name"};
  JobContext ctx;
  auto r = ops::restore_files(*repo, ops::resolve_restore_point(*repo, req), req, ctx);
  EXPECT_EQ(r.verdict.outcome, RestoreOutcome::NothingMatched);
  EXPECT_EQ(r.exit_code(), 10);
}

TEST(OpsRestoreFiles, UnknownPointIsNotFoundBeforeAnyWrite) {
  MemRepo mr;
  auto repo = mr.open();
  TempDir dir;
  auto req = request_into(dir.path + "/out");
  try {
    ops::resolve_restore_point(*repo, req);
    FAIL() << "an empty repository has no latest point";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir.path + "/out"));
}

// docs/user-guide.md "Exit codes": a restore exits 3 when damaged data kept some files out, 12
// when nothing could be restored, 1 for problems of the target; a stop is 130, a full disk 13,
// an --include that matches nothing 10. Files are best effort, a cluster all or nothing.
TEST(RestoreOutcome, OneTableForEveryRestore) {
  struct Case {
    const char* what;
    RestoreResult r;
    RestoreScope scope;
    RestoreOutcome outcome;
    int exit_code;
  };
  auto with = [](auto f) {
    RestoreResult r;
    f(r);
    return r;
  };
  const auto BE = RestoreScope::BestEffort, AON = RestoreScope::AllOrNothing;
  std::vector<Case> cases = {
      {"clean", with([](RestoreResult& r) { r.files = 3; }), BE, RestoreOutcome::Ok, 0},
      {"some damaged", with([](RestoreResult& r) {
         r.files = 2, r.errors = {damage("a"), damage("a")};
       }),
       BE, RestoreOutcome::Partial, 3},
      {"all damaged", with([](RestoreResult& r) { r.errors = {damage("a")}; }), BE, RestoreOutcome::NothingRestored,
       12},
      {"target refused", with([](RestoreResult& r) { r.files = 1, r.errors = {refused("b")}; }), BE,
       RestoreOutcome::TargetProblems, 1},
      {"both, files", with([](RestoreResult& r) {
         r.files = 1, r.errors = {refused("b"), damage("a")};
       }),
       BE, RestoreOutcome::TargetProblems, 1},
      {"both, cluster", with([](RestoreResult& r) {
         r.files = 1, r.errors = {refused("b"), damage("a")};
       }),
       AON, RestoreOutcome::NothingRestored, 12},
      {"some damaged, cluster", with([](RestoreResult& r) { r.files = 9, r.errors = {damage("a")}; }), AON,
       RestoreOutcome::NothingRestored, 12},
      {"full", with([](RestoreResult& r) { r.no_space = true, r.errors = {refused("b")}; }), BE,
       RestoreOutcome::NoSpace, 13},
      {"no match", with([](RestoreResult& r) { r.unmatched_includes = {"x"}; }), BE, RestoreOutcome::NothingMatched,
       10},
      {"stopped", with([](RestoreResult& r) { r.interrupted = true, r.no_space = true; }), AON,
       RestoreOutcome::Interrupted, 130},
  };
  for (const auto& c : cases) {
    RestoreVerdict v = judge_restore(c.r, c.scope);
    EXPECT_EQ(v.outcome, c.outcome) << c.what << ": " << restore_outcome_name(v.outcome);
    EXPECT_EQ(ops::restore_exit_code(v.outcome), c.exit_code) << c.what;
  }
  RestoreVerdict v = judge_restore(with([](RestoreResult& r) {
    r.errors = {damage("a"), refused("t"), damage("a"), damage("b")};
  }));
  EXPECT_EQ(v.damaged, (std::vector<std::string>{"a", "b"}));  // each path once, in order
  EXPECT_EQ(v.target_problems, 1u);
}
