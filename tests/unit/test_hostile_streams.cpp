// Parsers of bytes from servers Arca does not control (docs/security.md, "Defences"): tar
// streams from PostgreSQL, the replication stream and replies of a Redis master, Kafka records
// and the archive JSON a key holder can write. Each test feeds crafted bytes and expects a
// Corrupt error (or a clamped value) with memory and time bounded by what was actually sent.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "repo/blob_writer.h"
#include "sources/common/tar_reader.h"
#include "sources/kafka/kafka_archive.h"
#include "sources/kafka/record_codec.h"
#include "sources/redis/crc64.h"
#include "sources/redis/rdb_parser.h"
#include "sources/redis/resp_reader.h"
#include "tar_build.h"
#include "test_util.h"
#include "util/error.h"

using namespace arca;
using namespace arca::test;

namespace {

// ---- tar ----

// Feeds the archive (in 64 KiB pieces) and returns the Corrupt error's message, or "" if none.
std::string read_tar(const Bytes& tar, Collected& c) {
  TarReader r("base.tar", collector(c));
  try {
    for (size_t i = 0; i < tar.size(); i += 65536)
      r.feed(ByteView(tar.data() + i, std::min<size_t>(65536, tar.size() - i)));
    r.finish();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Corrupt) << e.what();
    return e.what();
  }
  return "";
}

TEST(HostileTar, EmptyLongNameDoesNotSwallowTheNextFile) {
  // Before: a size-0 'L' left the reader in long-name mode, and the next file's content (1 MiB
  // here, any size in general) was appended to the name.
  Bytes tar;
  append_entry(tar, "././@LongLink", 'L', "");
  append_entry(tar, "base/1/1259", '0', std::string(1 << 20, 'x'));
  append_entry(tar, "PG_VERSION", '0', "15\n");
  tar.resize(tar.size() + 1024, 0);
  Collected c;
  std::string err = read_tar(tar, c);
  EXPECT_NE(err.find("0 bytes"), std::string::npos) << err;
  EXPECT_NE(err.find("byte 0"), std::string::npos) << err;  // where the entry is
  for (const auto& e : c.entries) EXPECT_LE(e.path.size(), kMaxTarName);
}

TEST(HostileTar, LongNamesAreBoundedByPathMax) {
  // A 1 MiB long name is refused before any of it is read.
  Bytes tar;
  append_entry(tar, "ok", '0', "x");
  append_entry(tar, "././@LongLink", 'L', std::string(1 << 20, 'n') + '\0');
  append_entry(tar, "placeholder", '0', "data");
  Collected c;
  std::string err = read_tar(tar, c);
  EXPECT_NE(err.find("1048577 bytes"), std::string::npos) << err;
  EXPECT_NE(err.find("at byte 1024"), std::string::npos) << err;
  ASSERT_EQ(c.entries.size(), 1u);

  // Just above PATH_MAX: refused; exactly PATH_MAX: accepted.
  for (size_t len : {kMaxTarName + 1, kMaxTarName}) {
    Bytes t;
    append_entry(t, "././@LongLink", 'L', std::string(len, 'n') + '\0');
    append_entry(t, "placeholder", '0', "data");
    t.resize(t.size() + 1024, 0);
    Collected c2;
    std::string e2 = read_tar(t, c2);
    if (len > kMaxTarName) {
      EXPECT_NE(e2, "") << len;
    } else {
      EXPECT_EQ(e2, "");
      ASSERT_EQ(c2.entries.size(), 1u);
      EXPECT_EQ(c2.entries[0].path, std::string(len, 'n'));
      EXPECT_EQ(c2.contents[0], "data");
    }
  }
}

TEST(HostileTar, LongLinkTargetsAndPaxNamesAreBounded) {
  // 'K' and pax path/linkpath are read (they were refused as unsupported before) and bounded.
  Bytes tar;
  append_entry(tar, "././@LongLink", 'K', std::string(300, 't') + '\0');
  append_entry(tar, "link", '2');
  std::string rec = "path=" + std::string(200, 'p') + "\n";
  std::string pax = std::to_string(rec.size() + 4) + " " + rec;
  append_entry(tar, "PaxHeader", 'x', pax);
  append_entry(tar, "short", '0', "abc");
  tar.resize(tar.size() + 1024, 0);
  Collected c;
  EXPECT_EQ(read_tar(tar, c), "");
  ASSERT_EQ(c.entries.size(), 2u);
  EXPECT_EQ(c.entries[0].link_target, std::string(300, 't'));
  EXPECT_EQ(c.entries[1].path, std::string(200, 'p'));
  EXPECT_EQ(c.contents[1], "abc");

  Bytes big;
  std::string brec = "linkpath=" + std::string(kMaxTarName + 1, 'q') + "\n";
  append_entry(big, "PaxHeader", 'x', std::to_string(brec.size() + 5) + " " + brec);
  append_entry(big, "link", '2');
  Collected c2;
  EXPECT_NE(read_tar(big, c2).find("linkpath of 4097 bytes"), std::string::npos);

  Bytes huge;
  tar_append(huge, tar_header("PaxHeader", 'x', 1ull << 30), "");  // declares 1 GiB, sends nothing
  Collected c3;
  EXPECT_NE(read_tar(huge, c3).find("pax extended header"), std::string::npos);

  Bytes nul;
  std::string nrec = std::string("path=a") + '\0' + "b\n";
  append_entry(nul, "PaxHeader", 'x', std::to_string(nrec.size() + 3) + " " + nrec);
  append_entry(nul, "f", '0', "");
  Collected c5;
  EXPECT_NE(read_tar(nul, c5).find("NUL"), std::string::npos);

  Bytes malformed;
  append_entry(malformed, "PaxHeader", 'x', "99999 path=x\n");
  append_entry(malformed, "f", '0', "");
  Collected c4;
  EXPECT_NE(read_tar(malformed, c4).find("malformed pax record"), std::string::npos);
}

// Writes `v` as a 12-byte base-256 number (two's complement) at `off`.
void base256(Bytes& h, size_t off, int64_t hi, uint64_t lo) {
  h[off] = hi < 0 ? 0xff : 0x80;
  for (int i = 0; i < 3; i++) h[off + 1 + size_t(i)] = uint8_t(uint64_t(hi) >> (8 * (2 - i)));
  for (int i = 0; i < 8; i++) h[off + 4 + size_t(i)] = uint8_t(lo >> (8 * (7 - i)));
}

TEST(HostileTar, MtimesBeyondNanosecondsAreClamped) {
  // mtime 2^63 s (and larger, and hugely negative) in base-256: before, 2^63 came out as
  // INT64_MIN, and base_backup's mtime * 1e9 overflowed.
  struct Case {
    int64_t hi;
    uint64_t lo;
    int64_t want;
  } cases[] = {
      {0, uint64_t(1) << 63, kMaxTarMtime},           // 2^63
      {0x7fffff, ~uint64_t(0), kMaxTarMtime},         // 2^87 - 1: more than 64 bits
      {0, uint64_t(kMaxTarMtime) + 1, kMaxTarMtime},  // just past 2262-04-11
      {0, uint64_t(kMaxTarMtime), kMaxTarMtime},      // 2262-04-11: kept
      {-1, ~uint64_t(0), -1},                         // -1 s: kept (1969)
      {-1, uint64_t(1) << 63, kMinTarMtime},          // -2^63
      {-0x800000, 0, kMinTarMtime},                   // far below
  };
  for (const auto& k : cases) {
    Bytes h = tar_header("f", '0', 3);
    base256(h, 136, k.hi, k.lo);
    tar_checksum(h);
    Bytes tar;
    tar_append(tar, h, "abc");
    Collected c;
    EXPECT_EQ(read_tar(tar, c), "");
    ASSERT_EQ(c.entries.size(), 1u);
    EXPECT_EQ(c.entries[0].mtime, k.want) << k.hi << " " << k.lo;
    int64_t ns = 0;
    EXPECT_FALSE(__builtin_mul_overflow(c.entries[0].mtime, int64_t(1'000'000'000), &ns));
  }
  // A size that does not fit is refused (it cannot be clamped).
  Bytes h = tar_header("f", '0', 0);
  base256(h, 124, 1, 0);
  tar_checksum(h);
  Collected c;
  EXPECT_NE(read_tar(h, c).find("impossible size"), std::string::npos);
}

// ---- Kafka ----

// The Corrupt error's message, or "" if `f` did not throw one.
std::string corrupt_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Corrupt) << e.what();
    return e.what();
  }
  return "";
}

nlohmann::json sample_index() {
  KafkaPartitionArchive p;
  p.partition = 0;
  p.next_offset = 10;
  KafkaSegment s;
  s.add({Id{}, Id{}, 0, 9, 10, 100, 1'700'000'000'000, 1'700'000'000'009});
  p.segments.push_back(s);
  p.records = 10;
  p.bytes = 100;
  p.gaps.push_back({0, 0, "test"});
  return p.to_json();
}

TEST(HostileKafka, ArchiveJsonNumbersAreRangeChecked) {
  // Before: nlohmann's get<int64_t>() of 1e300 is a float-cast overflow (UBSan aborts; a
  // normal build reads garbage). Every integer of index.json is checked, naming file and field.
  EXPECT_EQ(corrupt_message([] { KafkaPartitionArchive::from_json(sample_index(), "idx"); }), "");
  struct Case {
    std::function<void(nlohmann::json&)> edit;
    std::string field;
  } cases[] = {
      {[](nlohmann::json& j) { j["segments"][0]["blobs"][0][6] = 1e300; }, "segments[0].blobs[0][6] (min timestamp)"},
      {[](nlohmann::json& j) { j["segments"][0]["blobs"][0][7] = -1e300; }, "segments[0].blobs[0][7] (max timestamp)"},
      {[](nlohmann::json& j) { j["segments"][0]["blobs"][0][4] = -1; }, "segments[0].blobs[0][4] (records)"},
      {[](nlohmann::json& j) { j["segments"][0]["blobs"][0][2] = 18446744073709551615ull; }, "(first offset)"},
      {[](nlohmann::json& j) { j["partition"] = 1e300; }, "partition"},
      {[](nlohmann::json& j) { j["partition"] = 4294967296ll; }, "partition"},
      {[](nlohmann::json& j) { j["next_offset"] = 9.5; }, "next_offset"},
      {[](nlohmann::json& j) { j["records"] = 1e300; }, "records"},
      {[](nlohmann::json& j) { j["high_watermark"] = 1e19; }, "high_watermark"},
      {[](nlohmann::json& j) { j["segments"][0]["records"] = 1e300; }, "segments[0].records"},
      {[](nlohmann::json& j) { j["gaps"][0]["to"] = 1e300; }, "gaps[0].to"},
  };
  for (const auto& c : cases) {
    nlohmann::json j = sample_index();
    c.edit(j);
    std::string err = corrupt_message([&] { KafkaPartitionArchive::from_json(j, "topics/t/0/index.json"); });
    EXPECT_NE(err.find("topics/t/0/index.json"), std::string::npos) << err;
    EXPECT_NE(err.find(c.field), std::string::npos) << err;
  }
}

TEST(HostileKafka, TimestampsNearInt64MaxSaturate) {
  // Producers choose CreateTime: INT64_MAX ms is a valid record timestamp, and its segment
  // file's mtime (ms * 1e6) overflowed before.
  EXPECT_EQ(kafka_ms_to_ns(1'700'000'000'000), 1'700'000'000'000'000'000);
  EXPECT_EQ(kafka_ms_to_ns(INT64_MAX / 1'000'000), INT64_MAX / 1'000'000 * 1'000'000);
  EXPECT_EQ(kafka_ms_to_ns(INT64_MAX / 1'000'000 + 1), INT64_MAX);
  EXPECT_EQ(kafka_ms_to_ns(INT64_MAX), INT64_MAX);
  EXPECT_EQ(kafka_ms_to_ns(INT64_MIN), INT64_MIN);

  // A record with such a CreateTime round-trips, and the archive stores and loads.
  KafkaRecord r;
  r.offset = 0;
  r.timestamp = INT64_MAX - 1;
  r.timestamp_type = 1;
  r.value = "v";
  Bytes buf;
  encode_record(r, buf);
  size_t pos = 0;
  EXPECT_EQ(decode_record(buf, pos, "seg").timestamp, INT64_MAX - 1);

  TempDir dir;
  auto repo = make_test_repo(dir.path + "/repo");
  KafkaArchive a;
  KafkaTopicArchive& t = a.topics["t"];
  t.name = "t";
  t.partitions = 1;
  KafkaPartitionArchive& p = t.parts[0];
  KafkaSegment s;
  s.add({Id{}, Id{}, 0, 0, 1, 1, INT64_MAX - 1, INT64_MAX - 1});
  p.segments.push_back(s);
  p.next_offset = 1;
  p.records = 1;
  a.groups = {{"g", {{"t", {{"0", 1}}}}}};
  BlobWriter w(*repo);
  Snapshot snap;
  snap.tree = a.store(*repo, w);
  w.flush();
  Tree root = repo->load_tree(snap.tree);
  Tree topics = repo->load_tree(*root.nodes[1].subtree);
  Tree part = repo->load_tree(*repo->load_tree(*topics.nodes[0].subtree).nodes[0].subtree);
  ASSERT_EQ(part.nodes.size(), 2u);
  EXPECT_EQ(part.nodes[0].name, "00000000000000000000.seg");
  EXPECT_EQ(part.nodes[0].mtime_ns, INT64_MAX);
  KafkaArchive back = KafkaArchive::load(*repo, snap);
  EXPECT_EQ(back.topics["t"].parts[0].segments[0].max_ts, INT64_MAX - 1);

  // groups.json offsets are range-checked too (a restore reads them as int64).
  a.groups = {{"g", {{"t", {{"0", 1e300}}}}}};
  TempDir dir2;
  auto repo2 = make_test_repo(dir2.path + "/repo");
  BlobWriter w2(*repo2);
  snap.tree = a.store(*repo2, w2);
  w2.flush();
  std::string err = corrupt_message([&] { KafkaArchive::load(*repo2, snap); });
  EXPECT_NE(err.find("groups.json: group 'g', t/0"), std::string::npos) << err;
}

TEST(HostileKafka, TopicPartitionCountIsBounded) {
  // A restore creates the target topic with the recorded partition count: a planted
  // topic.json asking for two billion partitions is damage, not a request to the cluster.
  TempDir dir;
  auto repo = make_test_repo(dir.path + "/repo");
  KafkaArchive a;
  a.topics["t"].name = "t";
  a.topics["t"].partitions = 2'000'000'000;
  BlobWriter w(*repo);
  Snapshot snap;
  snap.tree = a.store(*repo, w);
  w.flush();
  std::string err = corrupt_message([&] { KafkaArchive::load(*repo, snap); });
  EXPECT_NE(err.find("topics/t/topic.json: partitions 2000000000"), std::string::npos) << err;
}

// ---- Redis ----

// Runs `f` in a child process whose address space may grow by at most `limit_mb` MiB, and says
// how it ended: "corrupt", "ok", "bad_alloc", "other: …" or "died". The limit makes allocating a
// declared size observable (it fails); the child's peak RSS must also stay within the limit.
std::string run_bounded(size_t limit_mb, const std::function<void()>& f) {
  int fds[2];
  if (pipe(fds) != 0) return "pipe failed";
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string result;
    long pages = 0, page = sysconf(_SC_PAGESIZE);
    if (FILE* st = std::fopen("/proc/self/statm", "r")) {
      if (std::fscanf(st, "%ld", &pages) != 1) pages = 0;
      std::fclose(st);
    }
    rlimit lim{};
    lim.rlim_cur = lim.rlim_max = rlim_t(pages) * rlim_t(page) + (rlim_t(limit_mb) << 20);
    setrlimit(RLIMIT_AS, &lim);
    rusage before{}, after{};
    getrusage(RUSAGE_SELF, &before);
    try {
      f();
      result = "ok";
    } catch (const Error& e) {
      result = e.kind() == ErrorKind::Corrupt ? "corrupt" : std::string("other: ") + e.what();
    } catch (const std::bad_alloc&) {
      result = "bad_alloc";
    } catch (const std::exception& e) {
      result = std::string("other: ") + e.what();
    }
    getrusage(RUSAGE_SELF, &after);
    if (after.ru_maxrss - before.ru_maxrss > long(limit_mb) * 1024) result += " (peak RSS above the limit)";
    if (write(fds[1], result.data(), result.size()) < 0) _exit(2);
    _exit(0);
  }
  close(fds[1]);
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, size_t(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return "died";
  return out;
}

// An RDB as a replication payload: the header, then `body`, as a master sends it before
// closing the connection (no EOF opcode: the stream simply ends).
Bytes rdb_prefix(const Bytes& body) {
  std::string h = "REDIS0011";
  Bytes b(h.begin(), h.end());
  b.insert(b.end(), body.begin(), body.end());
  return b;
}

// Feeds `data` to parse_rdb in pieces of `piece` bytes; `size`: the announced payload size (0: unknown).
void parse_rdb_bytes(const Bytes& data, uint64_t size = 0, size_t piece = 65536) {
  size_t pos = 0;
  RdbInput in([&](uint8_t* out, size_t max) {
    size_t n = std::min({max, piece, data.size() - pos});
    std::memcpy(out, data.data() + pos, n);
    pos += n;
    return n;
  });
  in.set_context("the RDB stream from test");
  if (size) in.set_size(size);
  parse_rdb(in, nullptr, true);
}

Bytes be32(uint32_t v) { return {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)}; }

TEST(HostileRedis, DeclaredStringLengthsAllocateOnlyWhatArrives) {
  // A string key declaring 512 MiB (the most Redis allows), then the stream ends. Before, the
  // parser allocated (and zeroed) 512 MiB first.
  Bytes body = {0x00, 0x80};  // a string value; key length as a 32-bit number
  Bytes len = be32(512u << 20);
  body.insert(body.end(), len.begin(), len.end());
  body.insert(body.end(), 1000, 'k');
  Bytes rdb = rdb_prefix(body);
  EXPECT_EQ(run_bounded(64, [&] { parse_rdb_bytes(rdb); }), "corrupt");
  // The same as an aux field, and with the payload's size known: refused at once, naming sizes.
  Bytes aux = {0xFA, 0x80};
  aux.insert(aux.end(), len.begin(), len.end());
  Bytes rdb2 = rdb_prefix(aux);
  EXPECT_EQ(run_bounded(64, [&] { parse_rdb_bytes(rdb2); }), "corrupt");
  try {
    parse_rdb_bytes(rdb2, rdb2.size());
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("declares a string of 536870912 bytes, but only 0 bytes"), std::string::npos)
        << e.what();
  }
}

TEST(HostileRedis, LzfSizesAreBoundedBeforeAllocating) {
  // Compressed length 512 MiB, the stream ends: read in pieces, refused at the end.
  Bytes body = {0x00, 0xC3, 0x80};
  Bytes c = be32(512u << 20), u = be32(512u << 20);
  body.insert(body.end(), c.begin(), c.end());
  body.insert(body.end(), 0x80);
  body.insert(body.end(), u.begin(), u.end());
  EXPECT_EQ(run_bounded(64, [&] { parse_rdb_bytes(rdb_prefix(body)); }), "corrupt");
  // 4 compressed bytes declaring 512 MiB uncompressed: more than LZF can expand to.
  Bytes body2 = {0x00, 0xC3, 0x04, 0x80};
  body2.insert(body2.end(), u.begin(), u.end());
  body2.insert(body2.end(), {0x00, 'a', 0x00, 'b'});
  EXPECT_EQ(run_bounded(64, [&] { parse_rdb_bytes(rdb_prefix(body2)); }), "corrupt");
  EXPECT_EQ(run_bounded(64, [] { lzf_decompress(Bytes{0x00, 'a'}, 512u << 20); }), "corrupt");
  // The largest expansion LZF has (88×) is still accepted: "a" then back-references of 264.
  Bytes bomb = {0x00, 'a'};
  for (int i = 0; i < 10; i++) bomb.insert(bomb.end(), {0xE0, 0xFF, 0x00});
  EXPECT_EQ(lzf_decompress(bomb, 1 + 10 * 264).size(), 1u + 10 * 264);
}

TEST(HostileRedis, ListLengthsDoNotAllocate) {
  // A list declaring 2^40 elements, with values wanted (as a restore reads them): the stream
  // ends after a few; nothing is sized by the count.
  Bytes body = {0x01, 0x01, 'k', 0x81, 0, 0, 1, 0, 0, 0, 0, 0};
  for (int i = 0; i < 10; i++) body.insert(body.end(), {0x01, 'v'});
  EXPECT_EQ(run_bounded(64, [&] { parse_rdb_bytes(rdb_prefix(body)); }), "corrupt");
}

// A RESP byte source: `data` in pieces of at most `piece` bytes, then "the connection closed".
RespReader resp(const std::string& data, size_t piece, size_t* calls = nullptr) {
  auto pos = std::make_shared<size_t>(0);
  return RespReader([] { return std::string("Redis at test"); },
                    [data, piece, pos, calls](uint8_t* out, size_t max) -> size_t {
                      if (calls) ++*calls;
                      if (*pos == data.size()) throw Error(ErrorKind::Generic, "the connection was closed");
                      size_t n = std::min({max, piece, data.size() - *pos});
                      std::memcpy(out, data.data() + *pos, n);
                      *pos += n;
                      return n;
                    });
}

TEST(HostileRedis, LongLineByteByByteIsLinear) {
  // 10 MB line arriving one byte per read: before, every read rescanned the whole line (and
  // zeroed a fresh 256 KiB), 10^13+ operations; now each byte is scanned once.
  std::string line(10'000'000, 'x');
  size_t calls = 0;
  RespReader r = resp("+" + line + "\r\n+next\r\n", 1, &calls);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(r.read_line().size(), line.size() + 1);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(s, 10.0);
  EXPECT_EQ(r.read_line(), "+next");
  EXPECT_GE(calls, line.size());  // it really was read a byte at a time
}

TEST(HostileRedis, RepliesAreBoundedInSizeDepthAndElements) {
  // A bulk reply announcing 512 MiB, then the connection closes: no 512 MiB allocation.
  EXPECT_EQ(run_bounded(64, [] { resp("$536870912\r\nabc", 65536).read_reply(); }), "other: the connection was closed");
  EXPECT_EQ(run_bounded(64, [] { resp("$536870913\r\n", 65536).read_reply(); }), "corrupt");
  // Ordinary replies still parse, in any pieces.
  for (size_t piece : {size_t(1), size_t(3), size_t(4096)}) {
    RespReader r = resp("*3\r\n$5\r\nhello\r\n:42\r\n*1\r\n$-1\r\n+OK\r\n", piece);
    RedisReply a = r.read_reply();
    ASSERT_EQ(a.elements.size(), 3u);
    EXPECT_EQ(a.elements[0].str, "hello");
    EXPECT_EQ(a.elements[1].integer, 42);
    EXPECT_EQ(a.elements[2].elements[0].type, RedisReply::Type::Nil);
    EXPECT_EQ(r.read_reply().str, "OK");
  }
  // A bulk reply longer than announced.
  EXPECT_EQ(run_bounded(64, [] { resp("$2\r\nabc\r\n", 100).read_reply(); }), "corrupt");
  // Depth: 9 levels are refused.
  std::string deep;
  for (int i = 0; i < 10; i++) deep += "*1\r\n";
  EXPECT_EQ(run_bounded(64, [&] { resp(deep + ":1\r\n", 100).read_reply(); }), "corrupt");
  // Elements: counted over the whole reply, nested arrays included. Before, 2^24 per array at
  // each of 8 levels were accepted (each element ~100 bytes of memory for 3 to 4 bytes sent).
  EXPECT_EQ(run_bounded(64, [] { resp("*16777216\r\n", 100).read_reply(); }), "corrupt");
  std::string nested = "*40000\r\n";
  for (int i = 0; i < 40000; i++) nested += "*1\r\n:1\r\n";
  EXPECT_EQ(run_bounded(64, [&] { resp(nested, 65536).read_reply(); }), "corrupt");
  std::string fits = "*30000\r\n";
  for (int i = 0; i < 30000; i++) fits += "*1\r\n:1\r\n";
  EXPECT_EQ(resp(fits, 65536).read_reply().elements.size(), 30000u);
}

}  // namespace
