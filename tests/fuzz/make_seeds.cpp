// Writes the fuzz targets' seed corpora (a few valid inputs each) with the project's own
// encoders, so the fuzzers start from the real formats: make_seeds <dir> writes <dir>/<target>/*.
// The output is checked in as tests/fuzz/corpus/; rerun it when a format changes. The RDB seed
// made by redis-server (rdb/redis-server.rdb) is checked in as it is.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "../unit/tar_build.h"
#include "crypto/random.h"
#include "repo/compress.h"
#include "repo/envelope.h"
#include "repo/index.h"
#include "repo/pack.h"
#include "repo/snapshot.h"
#include "repo/tree.h"
#include "sources/kafka/kafka_archive.h"
#include "sources/kafka/record_codec.h"
#include "sources/redis/crc64.h"

using namespace arca;
using namespace std::string_literals;
namespace fs = std::filesystem;

static std::string root;

static void put(const std::string& target, const std::string& name, const Bytes& b, const Bytes& prefix = {}) {
  fs::create_directories(root + "/" + target);
  std::ofstream f(root + "/" + target + "/" + name, std::ios::binary);
  f.write(reinterpret_cast<const char*>(prefix.data()), std::streamsize(prefix.size()));
  f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}
static void put(const std::string& target, const std::string& name, const std::string& s, const Bytes& prefix = {}) {
  put(target, name, Bytes(s.begin(), s.end()), prefix);
}
static Bytes le32(uint32_t v) { return {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)}; }
static Id id_of(int n) {
  Id id;
  for (size_t i = 0; i < id.b.size(); i++) id.b[i] = uint8_t(n * 31 + i);
  return id;
}

static void tar_seeds() {
  Bytes a;
  test::append_entry(a, "PG_VERSION", '0', "15\n");
  test::append_entry(a, "base", '5', "", "", 0700);
  test::append_entry(a, "base/1/1259", '0', std::string(700, 'p'));
  test::append_entry(a, "pg_tblspc/16384", '2', "", "/srv/tblspc");
  a.resize(a.size() + 1024, 0);
  put("tar_reader", "basebackup.tar", a, {0});
  put("tar_reader", "basebackup-small-pieces.tar", a, {1});
  Bytes b;
  std::string long_name = "base/1/" + std::string(150, 'n');
  test::append_entry(b, "././@LongLink", 'L', long_name + '\0');
  test::append_entry(b, long_name.substr(0, 99), '0', "content");
  b.resize(b.size() + 1024, 0);
  put("tar_reader", "gnu-long-name.tar", b, {3});
}

// The RDB encodings a small Redis writes: aux fields, databases, expiries, int-encoded strings,
// an LZF-compressed string, a list, then EOF and the CRC-64.
static void rdb_seed() {
  Bytes r;
  auto raw = [&](const std::string& s) { r.insert(r.end(), s.begin(), s.end()); };
  auto str = [&](const std::string& s) {
    r.push_back(uint8_t(s.size()));
    raw(s);
  };
  raw("REDIS0011");
  r.push_back(0xFA), str("redis-ver"), str("7.0.15");
  r.insert(r.end(), {0xFE, 0x00, 0xFB, 0x03, 0x01});
  r.push_back(0x00), str("greeting"), str("hello");
  r.push_back(0xFC);
  for (int i = 0; i < 8; i++) r.push_back(uint8_t(uint64_t(1893456000000ULL) >> (8 * i)));
  r.push_back(0x00), str("temp"), str("x");
  r.push_back(0x00), str("num"), r.insert(r.end(), {0xC0, 42});
  // "abcabcabc" compressed: literal run of 3, back-reference of 6 at distance 3.
  r.push_back(0x00), str("lzf"), r.insert(r.end(), {0xC3, 6, 9, 2, 'a', 'b', 'c', uint8_t(4 << 5), 2});
  r.insert(r.end(), {0xFE, 0x02});
  r.push_back(0x01), str("queue"), r.push_back(0x02), str("a"), str("b");
  r.push_back(0xFF);
  uint64_t crc = crc64_redis(0, r);
  for (int i = 0; i < 8; i++) r.push_back(uint8_t(crc >> (8 * i)));
  put("rdb", "small.rdb", r);
  put("lzf", "abcabcabc", Bytes{2, 'a', 'b', 'c', uint8_t(4 << 5), 2}, le32(9));
  put("lzf", "literal", Bytes{4, 'h', 'e', 'l', 'l', 'o'}, le32(5));
}

static void kafka_seeds() {
  Bytes seg;
  for (int i = 0; i < 4; i++) {
    KafkaRecord r;
    r.offset = 100 + i;
    r.timestamp = 1700000000000 + i;
    r.timestamp_type = uint8_t(1 + i % 2);
    if (i != 1) r.key = "key-" + std::to_string(i);
    if (i != 3) r.value = std::string(size_t(20 * i), 'v');  // i == 3: a tombstone
    if (i == 2) r.headers = {{"trace", "abc"}, {"empty", std::nullopt}};
    encode_record(r, seg);
  }
  put("kafka_record", "segment", seg);
  KafkaPartitionArchive p;
  p.partition = 3;
  p.next_offset = 104;
  p.records = 4, p.bytes = seg.size(), p.absent = 1;
  p.log_start = 100, p.high_watermark = 104;
  KafkaSegment s;
  KafkaBlobEntry b;
  b.id = id_of(1), b.sha256 = id_of(2);
  b.first = 100, b.last = 103, b.records = 4, b.bytes = seg.size();
  b.min_ts = 1700000000000, b.max_ts = 1700000000003;
  s.add(b);
  p.segments.push_back(s);
  p.gaps.push_back({90, 99, "retention"});
  put("kafka_archive", "index.json", p.to_json().dump());
  put("kafka_archive", "empty.json", KafkaPartitionArchive{}.to_json().dump());
}

static void xml_seeds() {
  put("s3_xml", "list.xml",
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Name>bucket</Name><KeyCount>2</KeyCount><IsTruncated>true</IsTruncated>"
      "<Contents><Key>data/ab/ab12&amp;x</Key><Size>4096</Size><ETag>&quot;d41d&quot;</ETag></Contents>"
      "<Contents><Key>index/&#x41;&#66;</Key><Size>12</Size></Contents>"
      "<NextContinuationToken>tok==</NextContinuationToken></ListBucketResult>");
  put("s3_xml", "error.xml",
      "<Error><Code>SlowDown</Code><Message>Please reduce your request rate &lt;now&gt;.</Message>"
      "<RequestId>tx1</RequestId></Error>");
  put("s3_xml", "multipart.xml",
      "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>u-1</UploadId>"
      "</InitiateMultipartUploadResult>");
}

static void tree_seeds() {
  Tree t;
  Node d;
  d.name = "etc", d.type = NodeType::Dir, d.mode = 0755, d.subtree = id_of(3), d.mtime_ns = 1700000000123456789;
  Node f;
  f.name = "file.txt", f.type = NodeType::File, f.mode = 0644, f.size = 5, f.content = {id_of(4), id_of(5)};
  f.user = "root", f.group = "root", f.xattrs = {{"user.note", Bytes{1, 2, 3}}};
  Node l;
  l.name = "link", l.type = NodeType::Symlink, l.link_target = "../x";
  Node c;
  c.name = "null", c.type = NodeType::CharDev, c.rdev = 0x103;
  Node n;
  n.name = std::string("n\xff\xfe", 3), n.type = NodeType::Fifo;  // not UTF-8: stored in base64
  t.nodes = {d, f, l, n, c};
  std::sort(t.nodes.begin(), t.nodes.end(), [](const Node& a, const Node& b) { return a.name < b.name; });
  put("tree", "tree.json", encode_tree(t));
  put("tree", "empty.json", encode_tree(Tree{}));
}

static void index_and_pack_seeds() {
  IndexPack a{id_of(6), BlobType::Data, {{id_of(7), 0, 100, 60}, {id_of(8), 100, 50, 20}}};
  IndexPack b{id_of(9), BlobType::Tree, {{id_of(10), 0, 300, 900}}};
  put("index_file", "two-packs", encode_index_file({a, b}));
  put("index_file", "empty", encode_index_file({}));
  // A pack's header plaintext as PackBuilder writes it (sealed by the target with its own keys).
  Keyring k;
  k.master = random_key(), k.id_key = random_key(), k.data_keys[1] = random_key();
  std::string staging = fs::temp_directory_path() / "arca-make-seeds.pack";
  PackBuilder pb(BlobType::Data, staging, 1 << 16, false);
  for (int i = 0; i < 3; i++) {
    Bytes plain(size_t(100 * (i + 1)), uint8_t(i));
    pb.add(id_of(20 + i), uint32_t(plain.size()), seal(k, 1, plain, 0));
  }
  auto fin = pb.finish(k);
  std::ifstream in(fin.path, std::ios::binary);
  Bytes pack((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  fs::remove(fin.path);
  uint32_t hlen = get_u32(pack.data() + pack.size() - 4);
  Bytes header = unseal(k, ByteView(pack).subspan(pack.size() - 4 - hlen, hlen), "seed pack");
  uint64_t data_bytes = pack.size() - 4 - hlen;
  put("pack_header", "three-blobs", header, {uint8_t(data_bytes >> 8), uint8_t(data_bytes)});
}

static void snapshot_seeds() {
  Snapshot s;
  s.id = id_of(11);
  s.time = "2025-03-01T02:00:00.123456Z";
  s.host = "web1", s.user = "root";
  s.paths = {"/etc", "/srv"};
  s.tags = {"daily"};
  s.parent = id_of(12);
  s.tree = id_of(13);
  s.stats.files = 10, s.stats.bytes = 12345, s.stats.duration_s = 1.5;
  s.warnings = {{"/srv/x", "permission denied"}};
  put("snapshot", "files.json", s.to_json().dump());
  Snapshot p = s;
  p.source_kind = "postgres", p.source_name = "main", p.paths.clear();
  p.metadata["start_lsn"] = typed_meta("lsn", "0/3000028");
  p.metadata["timeline"] = typed_meta("integer", 1);
  put("snapshot", "postgres.json", p.to_json().dump());
}

static void zstd_seeds() {
  std::string text;
  for (int i = 0; i < 200; i++) text += "line " + std::to_string(i % 17) + " of a compressible blob\n";
  Bytes out;
  if (compress_maybe(as_view(text), 3, out) != Codec::Zstd) throw Error(ErrorKind::Generic, "seed did not compress");
  put("zstd", "text", out, le32(uint32_t(text.size())));
  Bytes zeros(100000, 0), z;
  compress_maybe(zeros, 19, z);
  put("zstd", "zeros", z, le32(100000));
}

static void policy_seeds() {
  put("retention_policy", "daily.json", R"({"rules":[{"name":"db","match":{"kind":"postgres","tags":["monthly"]},
    "keep":{"last":3,"daily":7,"weekly":4,"monthly":-1,"within":"30d","tags":["legal"]}},
    {"name":"rest","keep":{"within_daily":"1y6mo","yearly":2}}],"group_by":["host","source"]})");
  put("retention_policy", "remove.json",
      R"({"rules":[{"match":{"host":"web"},"keep":{}},{"keep":{"hourly":24}}],"group_by":["none"]})");
  put("retention_policy", "span", "~1y2mo3w4d5h6min7s");
  put("retention_policy", "span-days", "~30d");
}

static void checks_seeds() {
  put("checks_file", "checks.sql",
      "-- check: no negative balances\n-- database: orders\n-- expect: = 0\n"
      "SELECT count(*) FROM accounts WHERE balance < 0;\n"
      "-- check: yesterday's orders are there\n-- expect: nonempty\n"
      "SELECT 1 FROM orders WHERE created > now() - interval '2 days' LIMIT 1;\n"
      "-- check: sizes\n-- expect: >= 10.5\nSELECT 11;\n");
}

static void resp_seeds() {
  // The first byte: 0 = replies only, 1 = a line first (the replication handshake).
  put("redis_resp", "replies",
      "\0+OK\r\n:42\r\n$5\r\nhello\r\n$-1\r\n*3\r\n$3\r\nset\r\n:-7\r\n*-1\r\n-ERR unknown\r\n"
      "*2\r\n*1\r\n+nested\r\n$0\r\n\r\n"s);
  put("redis_resp", "info", "\0$56\r\n# Server\r\nredis_version:7.0.15\r\nrole:master\r\nconnected:1\r\n\r\n"s);
  put("redis_resp", "fullresync", "\1+FULLRESYNC 8f3a 0\r\n$EOF:0123456789abcdef0123456789abcdef01234567\r\n"s);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds <corpus dir>\n");
    return 2;
  }
  root = argv[1];
  tar_seeds();
  rdb_seed();
  kafka_seeds();
  xml_seeds();
  tree_seeds();
  index_and_pack_seeds();
  snapshot_seeds();
  zstd_seeds();
  policy_seeds();
  checks_seeds();
  resp_seeds();
  return 0;
}
