// The WAL record reader (sources/postgres/wal_records.h) on segments a real PostgreSQL wrote
// (tests/data/wal, made by make_wal.sh), checked against pg_waldump's reading of the same files
// (expected.json); damaged, truncated and random input; and the newest commit in a repository's
// WAL archive (ops::newest_archived_commit), which `dr assess` measures PostgreSQL's age from.
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "ops/pg_wal.h"
#include "repo/compress.h"
#include "sources/postgres/wal_archive.h"
#include "sources/postgres/wal_records.h"
#include "test_util.h"
#include "util/io.h"

using namespace arca;
using End = WalSegmentScan::End;

namespace {

const std::string kDir = std::string(ARCA_SOURCE_DIR) + "/tests/data/wal/";

const nlohmann::json& expected() {
  static const nlohmann::json j = [] {
    std::ifstream in(kDir + "expected.json");
    return nlohmann::json::parse(in);
  }();
  return j;
}
// Segment i of expected.json: 0 = commits, an abort and a 12 kB commit, then a switch; 1 = bulk
// inserts whose last record continues into 2; 2 = the rest, then commits and a switch.
const nlohmann::json& meta(int i) { return expected()["segments"][size_t(i)]; }
const Bytes& segment(int i) {
  static std::vector<Bytes> segs = [] {
    std::vector<Bytes> v;
    for (int k = 0; k < 3; k++) {
      std::string f = meta(k)["file"];
      v.push_back(decompress(Codec::Zstd, read_whole_file(kDir + f), f, 1u << 30));
    }
    return v;
  }();
  return segs[size_t(i)];
}
// pg_waldump's commits (not aborts) in segment i, oldest first.
std::vector<nlohmann::json> commits(int i) {
  std::vector<nlohmann::json> out;
  for (const auto& x : meta(i)["xact"])
    if (x["desc"] == "COMMIT") out.push_back(x);
  return out;
}
Lsn lsn_of(const nlohmann::json& r) { return r["lsn"].get<Lsn>(); }
uint64_t seg_start(int i) { return meta(i)["start"].get<uint64_t>(); }
Bytes prefix(const Bytes& b, size_t n) { return Bytes(b.begin(), b.begin() + std::ptrdiff_t(n)); }

}  // namespace

TEST(WalRecords, EachSegmentReadsAsPgWaldumpReadsIt) {
  for (int i : {0, 2}) {
    SCOPED_TRACE(meta(i)["name"].get<std::string>());
    WalSegmentScan s = scan_wal_segment(segment(i));
    EXPECT_EQ(s.end, End::Switch) << s.detail;
    EXPECT_EQ(s.records, meta(i)["records"].get<uint64_t>());
    EXPECT_EQ(s.first_record, lsn_of(meta(i)["first"]));
    EXPECT_EQ(s.last_record, lsn_of(meta(i)["last"]));
    EXPECT_EQ(s.start, seg_start(i));
    EXPECT_EQ(s.segment_size, 1u << 20);
    EXPECT_EQ(s.page_size, 8192u);
    EXPECT_NE(s.system_id, 0u);
    ASSERT_TRUE(s.newest_commit);
    EXPECT_EQ(s.newest_commit->lsn, lsn_of(commits(i).back()));
    const int64_t unix_us = commits(i).back()["time_us"].get<int64_t>();
    EXPECT_EQ(s.newest_commit->pg_time_us + 946684800000000, unix_us);
    EXPECT_NEAR(s.newest_commit->unix_time(), double(unix_us) / 1e6, 1e-5);
  }
  WalSegmentScan a = scan_wal_segment(segment(0));
  ASSERT_TRUE(a.newest_abort) << "segment 0 has a rolled-back transaction";
  EXPECT_EQ(a.newest_abort->lsn, lsn_of(meta(0)["xact"][1]));
  EXPECT_EQ(meta(0)["xact"][1]["desc"], "ABORT");
  EXPECT_FALSE(scan_wal_segment(segment(1)).newest_commit) << "segment 1 holds inserts only";
}

TEST(WalRecords, ACommitSpanningPagesIsRead) {
  const nlohmann::json big = commits(0).back();
  const Lsn at = lsn_of(big);
  ASSERT_NE(at / 8192, (at + big["len"].get<Lsn>()) / 8192) << "the sample's last commit must span a page boundary";
  WalSegmentScan s = scan_wal_segment(segment(0));
  ASSERT_TRUE(s.newest_commit);
  EXPECT_EQ(s.newest_commit->lsn, at);
}

TEST(WalRecords, ARecordContinuingIntoTheNextSegmentNeedsIt) {
  const Bytes& seg = segment(1);
  WalSegmentScan alone = scan_wal_segment(seg);
  EXPECT_EQ(alone.end, End::NextSegment) << alone.detail;
  EXPECT_EQ(alone.records, meta(1)["records"].get<uint64_t>() - 1);
  EXPECT_EQ(alone.last_record, meta(1)["last"]["prev"].get<Lsn>()) << "the record before the one that spans";
  WalSegmentScan both = scan_wal_segment(seg, segment(2));
  EXPECT_EQ(both.end, End::SegmentEnd) << both.detail;
  EXPECT_EQ(both.records, meta(1)["records"].get<uint64_t>());
  EXPECT_EQ(both.last_record, lsn_of(meta(1)["last"]));
  EXPECT_GT(both.end_lsn, seg_start(2));
  // The next segment alone starts with that record's tail: its first record comes after it.
  ASSERT_TRUE(segment(2)[2] & 0x01) << "XLP_FIRST_IS_CONTRECORD expected on the sample's first page";
  EXPECT_EQ(scan_wal_segment(segment(2)).first_record, lsn_of(meta(2)["first"]));
}

TEST(WalRecords, ADamagedCrcEndsValidWal) {
  const nlohmann::json big = commits(0).back();
  Bytes seg = segment(0);
  seg[size_t(lsn_of(big) - seg_start(0)) + 40] ^= 0x01;  // inside the commit's body, on its first page
  WalSegmentScan s = scan_wal_segment(seg);
  EXPECT_EQ(s.end, End::Invalid);
  EXPECT_TRUE(has(s.detail, "CRC") && has(s.detail, format_lsn(lsn_of(big)))) << s.detail;
  EXPECT_EQ(s.last_record, big["prev"].get<Lsn>());
  ASSERT_TRUE(s.newest_commit);
  EXPECT_EQ(s.newest_commit->lsn, lsn_of(commits(0)[commits(0).size() - 2])) << "the commit before the damaged one";
}

TEST(WalRecords, AContinuationPageThatDoesNotContinueEndsValidWal) {
  const nlohmann::json big = commits(0).back();
  Bytes seg = segment(0);
  const size_t page = size_t((lsn_of(big) / 8192 + 1) * 8192 - seg_start(0));
  seg[page + 16] ^= 0x04;  // xlp_rem_len of the page the commit continues on
  WalSegmentScan s = scan_wal_segment(seg);
  EXPECT_EQ(s.end, End::Invalid);
  EXPECT_TRUE(has(s.detail, "does not continue")) << s.detail;
  EXPECT_EQ(s.last_record, big["prev"].get<Lsn>());
}

TEST(WalRecords, TruncatedAndZeroTails) {
  const Bytes& seg = segment(2);
  const nlohmann::json last = commits(2).back();
  const size_t cut = size_t(lsn_of(meta(2)["last"]) - seg_start(2));  // where the switch record starts
  // A streamed partial segment: its written start, zero-padded to the segment size.
  Bytes padded = prefix(seg, cut);
  padded.resize(seg.size(), 0);
  WalSegmentScan z = scan_wal_segment(padded);
  EXPECT_EQ(z.end, End::Zeros) << z.detail;
  EXPECT_EQ(z.records, meta(2)["records"].get<uint64_t>() - 1);
  ASSERT_TRUE(z.newest_commit);
  EXPECT_EQ(z.newest_commit->lsn, lsn_of(last));
  // The same without padding, and cut inside the newest commit.
  WalSegmentScan t = scan_wal_segment(prefix(seg, cut + 3));
  EXPECT_EQ(t.end, End::Truncated) << t.detail;
  EXPECT_EQ(t.newest_commit->lsn, lsn_of(last));
  WalSegmentScan inside = scan_wal_segment(prefix(seg, size_t(lsn_of(last) - seg_start(2)) + 20));
  EXPECT_EQ(inside.end, End::Truncated) << inside.detail;
  ASSERT_TRUE(inside.newest_commit);
  EXPECT_EQ(inside.newest_commit->lsn, lsn_of(commits(2)[commits(2).size() - 2]));
  // Every cut: never more records than a longer cut, never a record that runs past the cut.
  uint64_t before = 0;
  for (size_t n = 0; n <= cut + 64; n += 509) {
    WalSegmentScan c = scan_wal_segment(prefix(seg, n));
    EXPECT_GE(c.records, before) << n;
    EXPECT_LE(c.end_lsn, seg_start(2) + n) << n;
    before = c.records;
  }
}

TEST(WalRecords, HostileInputNeverCrashesOrLoops) {
  std::mt19937_64 rng(2100);
  auto random_bytes = [&](size_t n) {
    Bytes b(n);
    for (auto& x : b) x = uint8_t(rng());
    return b;
  };
  for (size_t n : {0u, 1u, 39u, 40u, 8192u, 100000u, 1u << 20}) {
    WalSegmentScan s = scan_wal_segment(random_bytes(n));
    EXPECT_EQ(s.records, 0u) << n;
    EXPECT_NE(s.end, End::Switch);
  }
  EXPECT_EQ(scan_wal_segment(Bytes(1u << 20, 0)).end, End::Zeros);
  // A real first page header followed by garbage; a real segment with random bytes changed.
  const Bytes& seg = segment(2);
  const size_t used = size_t(lsn_of(meta(2)["last"]) - seg_start(2)) + 64;
  for (int round = 0; round < 60; round++) {
    Bytes b = prefix(seg, used);
    if (round < 10) {
      Bytes g = random_bytes(used - 40);
      std::copy(g.begin(), g.end(), b.begin() + 40);
    } else {
      for (int k = 0; k < 1 + round % 5; k++) b[size_t(rng() % used)] = uint8_t(rng());
    }
    WalSegmentScan s = scan_wal_segment(b, round % 2 ? ByteView(seg) : ByteView());
    EXPECT_LE(s.records, meta(2)["records"].get<uint64_t>());
    if (s.newest_commit) {  // damage never invents a commit: it can only hide the later ones
      bool known = false;
      for (const auto& c : commits(2)) known = known || lsn_of(c) == s.newest_commit->lsn;
      EXPECT_TRUE(known) << format_lsn(s.newest_commit->lsn);
    }
  }
  // Crafted lengths: a first record claiming 1 GiB, and one shorter than a record header.
  for (uint32_t len : {0x3FFFFFF0u, 12u, 0xFFFFFFFFu}) {
    Bytes b = prefix(seg, 8192);
    const size_t first = size_t(lsn_of(meta(2)["first"]) - seg_start(2));
    for (int k = 0; k < 4; k++) b[first + size_t(k)] = uint8_t(len >> (8 * k));
    WalSegmentScan s = scan_wal_segment(b);
    EXPECT_EQ(s.records, 0u);
    EXPECT_TRUE(s.end == End::Invalid || s.end == End::Truncated) << to_string(s.end);
  }
}

TEST(WalRecords, OtherVersionsAndNonWalAreRefused) {
  Bytes b = segment(0);
  b[0] = 0x16;  // PostgreSQL 17's magic, 0xD116
  WalSegmentScan s = scan_wal_segment(b);
  EXPECT_EQ(s.end, End::Invalid);
  EXPECT_TRUE(has(s.detail, "PostgreSQL 12-16")) << s.detail;
  EXPECT_EQ(s.records, 0u);
  Bytes text(100, 'x');
  EXPECT_EQ(scan_wal_segment(text).end, End::Invalid);
}

namespace {

// A repository with a base backup of the sample cluster ending at `stop_lsn` and, archived, the
// sample segments listed (by index); `pieces`: segment 2 only as streamed pieces.
struct ArchivedWal : ::testing::Test {
  TempDir d;
  std::unique_ptr<Repository> repo = make_test_repo(d.path + "/repo");
  uint64_t system_id = scan_wal_segment(segment(0)).system_id;
  Snapshot backup(Lsn stop_lsn) {
    Snapshot s;
    s.time = "2026-01-01T00:00:00Z";
    s.host = "db1";
    s.source_kind = "postgres";
    s.source_name = "main";
    s.metadata = {{"system_id", typed_meta("string", std::to_string(system_id))},
                  {"timeline", typed_meta("int", 1)},
                  {"stop_timeline", typed_meta("int", 1)},
                  {"stop_lsn", typed_meta("lsn", format_lsn(stop_lsn))},
                  {"stop_time", typed_meta("time", s.time)},
                  {"wal_segment_size", typed_meta("int", 1 << 20)}};
    repo->save_snapshot(s);
    return s;
  }
  void archive(std::initializer_list<int> which, bool pieces = false) {
    WalArchive a(*repo, system_id);
    for (int i : which) {
      const std::string name = meta(i)["name"];
      if (pieces && i == 2) {
        const size_t used = size_t(lsn_of(meta(2)["last"]) - seg_start(2));
        a.push_piece(name, 0, ByteView(segment(2)).first(used / 2));
        a.push_piece(name, uint32_t(used / 2), ByteView(segment(2)).subspan(used / 2, used - used / 2));
      } else {
        a.push(name, segment(i));
      }
    }
  }
};

}  // namespace

TEST_F(ArchivedWal, TheNewestCommitOnThePathFromTheBackup) {
  Snapshot b = backup(seg_start(0) + 0x100);
  archive({0, 1, 2});
  ops::ArchivedCommit c = ops::newest_archived_commit(*repo, b);
  ASSERT_TRUE(c.commit) << c.note;
  EXPECT_EQ(c.commit->lsn, lsn_of(commits(2).back()));
  EXPECT_EQ(c.segment, meta(2)["name"]);
  EXPECT_EQ(c.segments_read, 1u);
}

TEST_F(ArchivedWal, WalsStreamedPiecesCount) {
  Snapshot b = backup(seg_start(0) + 0x100);
  archive({0, 1, 2}, true);
  ops::ArchivedCommit c = ops::newest_archived_commit(*repo, b);
  ASSERT_TRUE(c.commit) << c.note;
  EXPECT_EQ(c.commit->lsn, lsn_of(commits(2).back()));
}

TEST_F(ArchivedWal, OlderSegmentsAreReadUntilACommit) {
  Snapshot b = backup(seg_start(0) + 0x100);
  archive({0, 1});
  ops::ArchivedCommit c = ops::newest_archived_commit(*repo, b);
  ASSERT_TRUE(c.commit) << c.note;
  EXPECT_EQ(c.commit->lsn, lsn_of(commits(0).back()));
  EXPECT_EQ(c.segments_read, 2u);
  ops::ArchivedCommit limited = ops::newest_archived_commit(*repo, b, 1);
  EXPECT_FALSE(limited.commit);
  EXPECT_TRUE(has(limited.note, "newest 1 archived segments")) << limited.note;
}

TEST_F(ArchivedWal, WalAfterAGapIsNotRestorable) {
  Snapshot b = backup(seg_start(0) + 0x100);
  archive({0, 2});  // segment 1 is missing: a restore stops at the end of segment 0
  ops::ArchivedCommit c = ops::newest_archived_commit(*repo, b);
  ASSERT_TRUE(c.commit) << c.note;
  EXPECT_EQ(c.commit->lsn, lsn_of(commits(0).back()));
}

TEST_F(ArchivedWal, CommitsBeforeTheBackupsEndDoNotCount) {
  Snapshot after = backup(lsn_of(commits(2).back()) + 8);
  archive({0, 1, 2});
  ops::ArchivedCommit c = ops::newest_archived_commit(*repo, after);
  EXPECT_FALSE(c.commit);
  EXPECT_TRUE(has(c.note, "no commit after the base backup")) << c.note;
}

TEST_F(ArchivedWal, NoArchivedWal) {
  Snapshot b = backup(seg_start(0) + 0x100);
  ops::ArchivedCommit c = ops::newest_archived_commit(*repo, b);
  EXPECT_FALSE(c.commit);
  EXPECT_EQ(c.note, "no WAL archived after the base backup");
}
