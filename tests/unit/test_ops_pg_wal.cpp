// `pg wal-push` / `pg wal-fetch` as operations (ops/pg_wal.h), in-process on a local repository:
// the results PostgreSQL's exit codes are made from (1 = not archived, an exception = 126).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "ops/pg_wal.h"
#include "test_util.h"
#include "util/error.h"

using namespace arca;

namespace {

const std::string kSeg = "000000010000000000000003";

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct WalOps : ::testing::Test {
  TempDir d;
  std::unique_ptr<Repository> repo = make_test_repo(d.path + "/repo");
  std::function<Repository&()> open = [this]() -> Repository& { return *repo; };
  EventLog events;
  JobContext ctx;
  void SetUp() override {
    ctx.events = &events;
    std::filesystem::create_directories(d.path + "/pg_wal");
    std::ofstream(d.path + "/pg_wal/" + kSeg, std::ios::binary) << "segment bytes";
  }
  ops::WalPushRequest push_req() {
    ops::WalPushRequest r;
    r.path = d.path + "/pg_wal/" + kSeg;
    r.system_id = "7301";
    r.spool = d.path + "/push-spool";
    return r;
  }
  ops::WalFetchRequest fetch_req(const std::string& file) {
    ops::WalFetchRequest r;
    r.file = file;
    r.destination = d.path + "/restored";
    r.system_id = "7301";
    r.spool = d.path + "/fetch-spool";
    return r;
  }
};

}  // namespace

TEST_F(WalOps, PushStoresThenAcceptsTheSameFileAgain) {
  auto r = ops::wal_push(open, push_req(), ctx);
  EXPECT_EQ(r.status, ops::WalPushResult::Status::Stored);
  EXPECT_EQ(r.to_json()["result"], "stored");
  EXPECT_EQ(r.to_json()["system_id"], "7301");
  EXPECT_EQ(r.to_json()["bytes"], 13);
  auto again = ops::wal_push(open, push_req(), ctx);
  EXPECT_EQ(again.status, ops::WalPushResult::Status::AlreadyArchived);
  EXPECT_EQ(again.to_json()["result"], "already_archived");
}

TEST_F(WalOps, PushRefusesANameThatIsNotWal) {
  auto req = push_req();
  req.path = d.path + "/pg_wal/notwal";
  try {
    ops::wal_push(open, req, ctx);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
  }
}

TEST_F(WalOps, FetchWritesTheArchivedFileAndSaysWhenOneIsMissing) {
  ops::wal_push(open, push_req(), ctx);
  auto r = ops::wal_fetch(open, fetch_req(kSeg), ctx);
  EXPECT_EQ(r.status, ops::WalFetchResult::Status::Fetched);
  EXPECT_EQ(r.exit_code(), 0);
  EXPECT_EQ(read_text(d.path + "/restored"), "segment bytes");
  auto missing = ops::wal_fetch(open, fetch_req("000000010000000000000009"), ctx);
  EXPECT_EQ(missing.status, ops::WalFetchResult::Status::NotInArchive);
  EXPECT_EQ(missing.exit_code(), 1);  // PostgreSQL: end of the archive, recovery ends
}

TEST_F(WalOps, FetchThrowsWhenTheRepositoryCannotBeRead) {
  // The CLI turns this into exit 126 so that recovery stops instead of ending early.
  std::function<Repository&()> broken = []() -> Repository& { throw Error(ErrorKind::Io, "unreadable"); };
  EXPECT_THROW(ops::wal_fetch(broken, fetch_req(kSeg), ctx), Error);
}
