// Errors carry the kind that says what happened (and so the documented exit code), not Generic:
// another operation in the way is a Conflict (16), a safety rule a refusal (15).
#include <gtest/gtest.h>

#include <filesystem>

#include "ops/error_table.h"
#include "repo/blob_writer.h"
#include "sources/postgres/pg_conn.h"
#include "sources/postgres/wal_archive.h"
#include "test_util.h"
#include "util/error.h"

using namespace arca;
using arca::testing::kind_of;

// `arca unlock --remove-all` elsewhere removed the running backup's registration: it must not
// publish, and the reason is a conflict with another operation (retry), not a generic failure.
TEST(ErrorKinds, BackupWhoseRegistrationWasRemovedIsAConflict) {
  TempDir d;
  auto repo = make_test_repo(d.path);
  BlobWriter w(*repo);
  size_t removed = 0;
  for (const auto& e : std::filesystem::directory_iterator(d.path + "/writers")) {
    std::filesystem::remove(e.path());
    removed++;
  }
  ASSERT_EQ(removed, 1u) << "the session registers itself in writers/";
  EXPECT_EQ(kind_of([&] { w.check_publishable(); }), ErrorKind::Conflict);
  EXPECT_EQ(exit_code_for(ErrorKind::Conflict), 16);
}

// A different file under a WAL name already archived is refused (a restored copy of the
// cluster still archiving): a safety rule, exit 15.
TEST(ErrorKinds, DifferentWalUnderAnArchivedNameIsRefused) {
  TempDir d;
  auto repo = make_test_repo(d.path);
  WalArchive archive(*repo, 7000000000000000001ull);
  Bytes a(1024, 1), b(1024, 2);
  EXPECT_EQ(archive.push("000000010000000000000003", a), WalArchive::PushResult::Stored);
  EXPECT_EQ(archive.push("000000010000000000000003", a), WalArchive::PushResult::AlreadyArchived);
  EXPECT_EQ(kind_of([&] { archive.push("000000010000000000000003", b); }), ErrorKind::Refused);
  EXPECT_EQ(exit_code_for(ErrorKind::Refused), 15);
}

// A number a (hostile or broken) PostgreSQL server sent that is not one is damaged data naming
// where it came from, not std::invalid_argument from stoull (exit 1, "stoull").
TEST(ErrorKinds, NonNumberFromPostgresIsCorrupt) {
  EXPECT_EQ(pg_number("16", "x"), 16u);
  EXPECT_EQ(pg_number("18446744073709551615", "x"), UINT64_MAX);
  for (const char* bad : {"", "abc", "-1", "12MB", "18446744073709551616", "99999999999999999999"})
    EXPECT_EQ(kind_of([&] { pg_number(bad, "IDENTIFY_SYSTEM timeline"); }), ErrorKind::Corrupt) << bad;
  try {
    pg_number("x1", "IDENTIFY_SYSTEM from db:5432, timeline");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("IDENTIFY_SYSTEM from db:5432, timeline: 'x1' is not a number"),
              std::string::npos)
        << e.what();
  }
}
