// Unit tests for the pieces of the PostgreSQL source that need no server: WAL names and
// positions, segment headers, the incremental tar reader, the stream-to-tree builder, the WAL
// archive's idempotent pushes and pieces, and time parsing for recovery targets.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "repo/blob_writer.h"
#include "repo/config.h"
#include "repo/wal_names.h"
#include "sources/common/stream_tree.h"
#include "sources/common/tar_reader.h"
#include "sources/postgres/checks_file.h"
#include "sources/postgres/cluster_restore.h"
#include "sources/postgres/pg_server.h"
#include "sources/postgres/wal_archive.h"
#include "storage/local_backend.h"
#include "tar_build.h"
#include "test_util.h"
#include "util/clock.h"
#include "util/error.h"

using namespace arca;
using namespace arca::test;

TEST(WalNames, LsnRoundTripAndSegments) {
  EXPECT_EQ(parse_lsn("16/B374D848"), (uint64_t(0x16) << 32) | 0xB374D848);
  EXPECT_EQ(format_lsn(parse_lsn("0/3000060")), "0/3000060");
  EXPECT_THROW(parse_lsn("nonsense"), Error);
  EXPECT_THROW(parse_lsn("1/2x"), Error);
  const uint64_t seg = 16u << 20;
  EXPECT_EQ(wal_segment_name(1, wal_segno(parse_lsn("1/0A000028"), seg), seg), "00000001000000010000000A");
  auto n = parse_wal_file_name("00000001000000010000000A", seg);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->kind, WalFileName::Kind::Segment);
  EXPECT_EQ(n->segno, 256u + 10u);
  EXPECT_EQ(parse_wal_file_name("00000003.history", seg)->kind, WalFileName::Kind::History);
  EXPECT_EQ(parse_wal_file_name("00000003.history", seg)->timeline, 3u);
  EXPECT_EQ(parse_wal_file_name("000000010000000000000009.00000028.backup", seg)->kind,
            WalFileName::Kind::BackupHistory);
  EXPECT_FALSE(parse_wal_file_name("00000001000000000000000a", seg));  // lowercase: not PostgreSQL's
  EXPECT_FALSE(parse_wal_file_name("../../etc/passwd", seg));
  EXPECT_FALSE(parse_wal_file_name("RECOVERYXLOG", seg));
}

TEST(WalNames, SegmentHeader) {
  Bytes seg(8192, 0);
  uint16_t info = 0x0002;
  uint32_t tli = 2, size = 16u << 20;
  uint64_t sysid = 7712206997276580626ull, addr = 0x3000000;
  std::memcpy(seg.data() + 2, &info, 2);
  std::memcpy(seg.data() + 4, &tli, 4);
  std::memcpy(seg.data() + 8, &addr, 8);
  std::memcpy(seg.data() + 24, &sysid, 8);
  std::memcpy(seg.data() + 32, &size, 4);
  auto h = read_wal_segment_header(seg);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->system_id, sysid);
  EXPECT_EQ(h->timeline, 2u);
  EXPECT_EQ(h->segment_size, size);
  info = 0;  // a short page header: not the start of a segment
  std::memcpy(seg.data() + 2, &info, 2);
  EXPECT_FALSE(read_wal_segment_header(seg));
}

TEST(TarReader, EntriesSurviveAnySplitOfTheStream) {
  Bytes tar;
  append_entry(tar, "base/", '5');
  append_entry(tar, "base/1/1259", '0', std::string(70000, 'x') + "end");
  append_entry(tar, "PG_VERSION", '0', "15\n");
  append_entry(tar, "empty", '0', "");
  append_entry(tar, "pg_tblspc/16384", '2', "", "/srv/tbs");
  std::string longname = "base/" + std::string(150, 'n');
  append_entry(tar, "././@LongLink", 'L', longname + '\0');
  tar.resize(tar.size() - 0);
  append_entry(tar, "short-placeholder", '0', "long");
  tar.resize(tar.size() + 1024, 0);  // end-of-archive marker
  for (size_t step : {size_t(1), size_t(7), size_t(512), size_t(4096), tar.size()}) {
    Collected c;
    TarReader r("test.tar", collector(c));
    for (size_t i = 0; i < tar.size(); i += step) r.feed(ByteView(tar.data() + i, std::min(step, tar.size() - i)));
    r.finish();
    ASSERT_EQ(c.entries.size(), 6u) << "step " << step;
    EXPECT_EQ(c.entries[0].path, "base");
    EXPECT_EQ(c.entries[0].type, TarEntry::Type::Dir);
    EXPECT_EQ(c.contents[1], std::string(70000, 'x') + "end");
    EXPECT_EQ(c.entries[1].mode, 0600u);
    EXPECT_EQ(c.entries[1].uid, 26u);
    EXPECT_EQ(c.entries[1].user, "postgres");
    EXPECT_EQ(c.contents[2], "15\n");
    EXPECT_EQ(c.entries[3].size, 0u);
    EXPECT_EQ(c.entries[4].type, TarEntry::Type::Symlink);
    EXPECT_EQ(c.entries[4].link_target, "/srv/tbs");
    EXPECT_EQ(c.entries[5].path, longname);
    EXPECT_EQ(c.contents[5], "long");
  }
}

TEST(TarReader, DamageIsDetected) {
  Bytes tar;
  append_entry(tar, "file", '0', "hello");
  Bytes bad = tar;
  bad[10] ^= 1;  // inside the name: the checksum no longer matches
  Collected c1;
  TarReader r1("t", collector(c1));
  EXPECT_THROW(r1.feed(bad), Error);
  Collected c2;
  TarReader r2("t", collector(c2));
  r2.feed(ByteView(tar.data(), 512 + 3));  // stops inside the file
  EXPECT_THROW(r2.finish(), Error);
  Bytes odd;
  append_entry(odd, "fifo", '6');
  Collected c3;
  TarReader r3("t", collector(c3));
  EXPECT_THROW(r3.feed(odd), Error);
}

TEST(StreamTree, BuildsTreesFromEntriesInAnyOrder) {
  TempDir dir;
  auto repo = make_test_repo(dir.path + "/repo");
  ProgressCounters progress;
  BlobWriter writer(*repo);
  StreamTree tree(*repo, writer, progress, 2);
  std::mt19937 rng(7);
  Bytes big(300000);
  for (auto& b : big) b = uint8_t(rng());
  Node meta;
  meta.mode = 0600;
  tree.begin_file("base/1/1259", meta, 65536);
  for (size_t i = 0; i < big.size(); i += 1000)
    tree.write(ByteView(big.data() + i, std::min<size_t>(1000, big.size() - i)));
  tree.end_file();
  tree.add_dir("base", meta);  // after its child: the directory entry still gets the metadata
  Node link;
  link.link_target = "/srv/tbs";
  tree.add_symlink("pg_tblspc/16384", link);
  tree.begin_file("PG_VERSION", meta, 65536);
  tree.write(as_view(std::string("15\n")));
  tree.end_file();
  EXPECT_THROW(tree.add_dir("../escape", meta), Error);
  Id root_id = tree.finish();
  writer.flush();
  Credentials c;
  c.passphrase = "pw";
  auto reopened = Repository::open(std::make_unique<LocalBackend>(dir.path + "/repo"), c);  // with the new index
  Tree root = reopened->load_tree(root_id);
  ASSERT_EQ(root.nodes.size(), 3u);
  EXPECT_EQ(root.nodes[0].name, "PG_VERSION");
  EXPECT_EQ(root.nodes[1].name, "base");
  EXPECT_EQ(root.nodes[1].mode, 0600u);
  EXPECT_EQ(root.nodes[2].name, "pg_tblspc");
  Tree base = reopened->load_tree(*root.nodes[1].subtree);
  Tree one = reopened->load_tree(*base.nodes.at(0).subtree);
  const Node& f = one.nodes.at(0);
  EXPECT_EQ(f.name, "1259");
  EXPECT_EQ(f.size, big.size());
  ASSERT_EQ(f.content.size(), 5u);  // 4 × 64 KiB + the rest
  Bytes back;
  for (const auto& id : f.content) {
    Bytes b = reopened->read_blob(id);
    back.insert(back.end(), b.begin(), b.end());
  }
  EXPECT_TRUE(back == big);
  Tree tbs = reopened->load_tree(*root.nodes[2].subtree);
  EXPECT_EQ(tbs.nodes.at(0).type, NodeType::Symlink);
  EXPECT_EQ(tbs.nodes.at(0).link_target, "/srv/tbs");
}

TEST(WalArchive, PushIsIdempotentAndRefusesDifferentContent) {
  TempDir dir;
  auto repo = make_test_repo(dir.path + "/repo");
  WalArchive archive(*repo, 42);
  Bytes seg(1000, 7);
  EXPECT_EQ(archive.push("000000010000000000000003", seg), WalArchive::PushResult::Stored);
  EXPECT_EQ(archive.push("000000010000000000000003", seg), WalArchive::PushResult::AlreadyArchived);
  Bytes other = seg;
  other[500] = 8;
  EXPECT_THROW(archive.push("000000010000000000000003", other), Error);
  EXPECT_TRUE(*archive.fetch("000000010000000000000003") == seg);
  EXPECT_FALSE(archive.fetch("000000010000000000000004"));
  EXPECT_THROW(archive.push("../../config", seg), Error);
  EXPECT_EQ(archive.object_name("00000002.history"), "wal/000000000000002a/00000002/00000002.history");
  WalArchive another_cluster(*repo, 43);
  EXPECT_FALSE(another_cluster.fetch("000000010000000000000003"));
}

TEST(WalArchive, PiecesAssembleIntoAPaddedSegment) {
  TempDir dir;
  auto repo = make_test_repo(dir.path + "/repo");
  WalArchive archive(*repo, 42);
  const uint32_t size = 1u << 20;
  Bytes start(40000, 0);
  uint16_t info = 0x0002;
  uint32_t tli = 1;
  uint64_t sysid = 42;
  std::memcpy(start.data() + 2, &info, 2);
  std::memcpy(start.data() + 4, &tli, 4);
  std::memcpy(start.data() + 24, &sysid, 8);
  std::memcpy(start.data() + 32, &size, 4);
  for (size_t i = 40; i < start.size(); i++) start[i] = uint8_t(i);
  std::string name = "000000010000000000000005";
  archive.push_piece(name, 0, ByteView(start.data(), 30000));
  archive.push_piece(name, 30000, ByteView(start.data() + 30000, 10000));
  archive.push_piece(name, 60000, ByteView(start.data(), 100));  // after a hole: not usable
  auto got = archive.fetch(name);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), size);
  EXPECT_TRUE(std::equal(start.begin(), start.end(), got->begin()));
  EXPECT_TRUE(std::all_of(got->begin() + 40000, got->end(), [](uint8_t b) { return b == 0; }));
  EXPECT_FALSE(archive.fetch(name, false));  // whole segments only
  auto listed = archive.list();
  EXPECT_EQ(std::count_if(listed.begin(), listed.end(), [](const WalObject& w) { return w.piece; }), 3);
  archive.push_piece(name, 0, ByteView(start.data(), 30000));  // the same piece again: accepted
  Bytes other(start.begin(), start.begin() + 30000);
  other[100] ^= 1;
  EXPECT_THROW(archive.push_piece(name, 0, other), Error);  // never mixes two histories
  // PostgreSQL's own "<segment>.partial" (archived by a promoted standby) lives beside the pieces.
  EXPECT_EQ(archive.push(name + ".partial", other), WalArchive::PushResult::Stored);
  EXPECT_TRUE(*archive.fetch(name + ".partial") == other);
  archive.remove_pieces(name);
  EXPECT_FALSE(archive.fetch(name));
}

TEST(ParseTime, ZonesAreRequired) {
  EXPECT_DOUBLE_EQ(*parse_time("2026-11-25T14:30:00Z"), 1795617000.0);
  EXPECT_DOUBLE_EQ(*parse_time("2026-11-25 14:30:00+00"), 1795617000.0);
  EXPECT_DOUBLE_EQ(*parse_time("2026-11-25 16:30:00+02"), 1795617000.0);
  EXPECT_DOUBLE_EQ(*parse_time("2026-11-25 09:00:00-05:30"), 1795617000.0);
  EXPECT_NEAR(*parse_time("2026-11-25 14:30:00.25+00"), 1795617000.25, 1e-6);
  EXPECT_FALSE(parse_time("2026-11-25 14:30:00"));
  EXPECT_FALSE(parse_time("yesterday"));
}

// Out of range is refused, never carried into the next day or month.
TEST(ParseTime, FieldsOutOfRangeAreRefused) {
  for (const char* bad : {"2026-12-32T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z",
                          "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-11-25T24:00:00Z",
                          "2026-11-25T23:60:00Z", "2026-11-25T23:59:61Z", "2026-11-25T10:00:00+24:00",
                          "2026-11-25T10:00:00+01:60"})
    EXPECT_FALSE(parse_time(bad)) << bad;
  EXPECT_TRUE(parse_time("2028-02-29T00:00:00Z")) << "a leap year";
  EXPECT_TRUE(parse_time("2000-02-29T00:00:00Z")) << "divisible by 400";
  EXPECT_FALSE(parse_time("1900-02-29T00:00:00Z")) << "divisible by 100";
  EXPECT_DOUBLE_EQ(*parse_time("2016-12-31T23:59:60Z"), *parse_time("2017-01-01T00:00:00Z")) << "a leap second";
}

TEST(VerifyChecks, ExpectationsAndCounts) {
  EXPECT_EQ(judge_expectation("= 0", 1, "0"), "");
  EXPECT_EQ(judge_expectation("= 0", 1, "3"), "expected = 0, got 3");
  EXPECT_EQ(judge_expectation("= 1.0", 1, "1"), "");  // numerically equal
  EXPECT_EQ(judge_expectation("= 'open'", 1, "open"), "");
  EXPECT_EQ(judge_expectation("!= open", 1, "open"), "expected != open, got open");
  EXPECT_EQ(judge_expectation(">= 100", 1, "99"), "expected >= 100, got 99");
  EXPECT_EQ(judge_expectation("< 5", 1, "4.5"), "");
  EXPECT_EQ(judge_expectation("> 5", 1, "abc"), "expected a number > 5, got 'abc'");
  EXPECT_EQ(judge_expectation("= 0", 0, std::nullopt), "expected a value = 0, got no rows");
  EXPECT_EQ(judge_expectation("empty", 0, std::nullopt), "");
  EXPECT_EQ(judge_expectation("empty", 2, "x"), "expected no rows, got 2");
  EXPECT_EQ(judge_expectation("nonempty", 0, std::nullopt), "expected rows, got none");
  EXPECT_EQ(judge_expectation("~ 3", 1, "3"), "unknown expectation '~ 3'");
  EXPECT_EQ(count_mismatch(100, 100, 0), "");
  EXPECT_EQ(count_mismatch(97, 100, 5), "");
  EXPECT_EQ(count_mismatch(99, 100, 0), "99 rows, backup recorded 100");
  EXPECT_EQ(count_mismatch(110, 100, 5), "110 rows, backup recorded 100 (±5 for concurrent writes)");
}

TEST(VerifyChecks, ChecksFile) {
  TempDir dir;
  std::string path = dir.path + "/checks.sql";
  {
    std::ofstream f(path);
    f << "-- a comment before the first check\n"
         "-- check: balances\n-- database: orders\n-- expect: = 0\nSELECT count(*)\n  FROM accounts WHERE balance < "
         "0;\n"
         "-- check: recent\n-- expect: nonempty\nSELECT 1;\n";
  }
  auto checks = parse_checks(path);
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(checks[0].name, "balances");
  EXPECT_EQ(checks[0].database, "orders");
  EXPECT_EQ(checks[0].expect, "= 0");
  EXPECT_EQ(checks[0].sql, "SELECT count(*)\n  FROM accounts WHERE balance < 0;\n");
  EXPECT_EQ(checks[1].database, "postgres");
  {
    std::ofstream f(path);
    f << "-- check: no expectation\nSELECT 1;\n";
  }
  EXPECT_THROW(parse_checks(path), Error);
  EXPECT_THROW(parse_checks(dir.path + "/missing.sql"), Error);
}

// pg restore blames what is at fault: damaged data is the repository's (exit 12, check it); a
// target that cannot be written (permissions, read-only, a name clash) is not (exit 1).
TEST(PgRestoreProblems, TargetProblemsAreNotRepositoryDamage) {
  using arca::RestoreProblem;
  using arca::RestoreProblemSource;
  auto kind_and_text = [](const std::vector<RestoreProblem>& p) -> std::pair<arca::ErrorKind, std::string> {
    try {
      arca::throw_restore_problems(p, "/srv/pg");
    } catch (const arca::Error& e) {
      return {e.kind(), e.what()};
    }
    return {arca::ErrorKind::Generic, ""};
  };
  EXPECT_NO_THROW(arca::throw_restore_problems({}, "/srv/pg"));

  auto [k1, t1] = kind_and_text({{"base/1/1234", "Permission denied", RestoreProblemSource::Target}});
  EXPECT_EQ(k1, arca::ErrorKind::Io) << t1;
  EXPECT_NE(t1.find("could not be written to /srv/pg"), std::string::npos) << t1;
  EXPECT_NE(t1.find("repository is not at fault"), std::string::npos) << t1;
  EXPECT_EQ(t1.find("check --read-data"), std::string::npos) << t1;

  auto [k2, t2] = kind_and_text({{"base/1/1", "Read-only file system", RestoreProblemSource::Target},
                                 {"base/1/2", "blob 1a2b3c4d is missing", RestoreProblemSource::Repository}});
  EXPECT_EQ(k2, arca::ErrorKind::Corrupt) << t2;
  EXPECT_NE(t2.find("base/1/2: blob 1a2b3c4d"), std::string::npos) << t2;
  EXPECT_NE(t2.find("1 more could not be written"), std::string::npos) << t2;
  EXPECT_NE(t2.find("check --read-data"), std::string::npos) << t2;
}

// A server that accepts (read-only) connections and has removed recovery.signal may still be
// finishing recovery: pg_is_in_recovery() is true until pg_control says "in production". The
// old wait returned here, and pg verify then failed with "read-only transaction".
TEST(PgServer, WaitPromotedWaitsForProductionState) {
  TempDir d;
  std::filesystem::create_directories(d.path + "/global");
  std::ofstream(d.path + "/postmaster.pid") << getpid() << "\n" << d.path << "\n0\n5432\n/tmp\n*\n0 0\nready   \n";
  auto control = [&](int32_t state) {
    std::string file(8192, '\0');
    std::memcpy(file.data() + 16, &state, sizeof state);
    std::ofstream(d.path + "/global/pg_control", std::ios::binary) << file;
  };
  PgServer server("/nonexistent-pg-bin", d.path);
  control(5);  // DB_IN_ARCHIVE_RECOVERY
  try {
    server.wait_promoted(1);
    FAIL() << "returned while pg_control says archive recovery";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("did not finish recovery"), std::string::npos) << e.what();
  }
  control(6);  // DB_IN_PRODUCTION
  server.wait_promoted(5);
}
