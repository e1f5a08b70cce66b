// The Redis pieces that need no server: CRC-64, LZF, the RDB reader (counts, expiries, RESTORE
// payloads, damage detection) and URL parsing.
#include <gtest/gtest.h>

#include <string>

#include "sources/redis/crc64.h"
#include "sources/redis/rdb_parser.h"
#include "sources/redis/redis_conn.h"
#include "util/error.h"

namespace arca {
namespace {

ByteView view(const std::string& s) { return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

TEST(RedisCrc64, KnownVector) {
  // The check value from Redis's own crc64 test.
  EXPECT_EQ(crc64_redis(0, view("123456789")), 0xe9c6d914c4b8d9caULL);
  // Slicing and byte-at-a-time paths agree on every split.
  std::string long_text(1000, 'x');
  for (size_t i = 0; i < long_text.size(); i++) long_text[i] = char(i * 7);
  uint64_t whole = crc64_redis(0, view(long_text));
  for (size_t split : {1, 7, 8, 9, 500})
    EXPECT_EQ(crc64_redis(crc64_redis(0, view(long_text.substr(0, split))), view(long_text.substr(split))), whole);
}

TEST(RedisLzf, LiteralsAndBackReferences) {
  // "abcabcabc": literal run of 3, then a back-reference of length 6 at distance 3.
  Bytes in = {2, 'a', 'b', 'c', uint8_t((4 << 5) | 0), 2};
  Bytes out = lzf_decompress(in, 9);
  EXPECT_EQ(std::string(out.begin(), out.end()), "abcabcabc");
  EXPECT_THROW(lzf_decompress(in, 8), Error);                         // wrong length
  EXPECT_THROW(lzf_decompress(Bytes{uint8_t(1 << 5), 9}, 3), Error);  // reference before the start
}

// A small RDB: db 0 with a string, a string with an expiry and an integer-encoded string; db 2
// with a list; then EOF and the CRC.
struct Rdb {
  Bytes b;
  void raw(const std::string& s) { b.insert(b.end(), s.begin(), s.end()); }
  void str(const std::string& s) {
    b.push_back(uint8_t(s.size()));
    raw(s);
  }
  Bytes finish() {
    b.push_back(0xFF);
    uint64_t crc = crc64_redis(0, b);
    for (int i = 0; i < 8; i++) b.push_back(uint8_t(crc >> (8 * i)));
    return b;
  }
};

Bytes sample_rdb() {
  Rdb r;
  r.raw("REDIS0010");
  r.b.push_back(0xFA);
  r.str("redis-ver");
  r.str("7.0.15");
  r.b.insert(r.b.end(), {0xFE, 0x00, 0xFB, 0x03, 0x01});
  r.b.push_back(0x00);
  r.str("greeting");
  r.str("hello");
  r.b.push_back(0xFC);
  for (int i = 0; i < 8; i++) r.b.push_back(uint8_t(uint64_t(1893456000000ULL) >> (8 * i)));
  r.b.push_back(0x00);
  r.str("temp");
  r.str("x");
  r.b.push_back(0x00);
  r.str("num");
  r.b.insert(r.b.end(), {0xC0, 42});  // int8-encoded string
  r.b.insert(r.b.end(), {0xFE, 0x02});
  r.b.push_back(0x01);  // list: 2 elements
  r.str("queue");
  r.b.push_back(0x02);
  r.str("a");
  r.str("b");
  return r.finish();
}

RdbSummary parse(const Bytes& data, std::vector<RdbKey>* keys = nullptr, std::vector<Bytes>* values = nullptr,
                 Bytes* teed = nullptr) {
  size_t pos = 0;
  RdbInput in(
      [&](uint8_t* out, size_t max) {
        size_t n = std::min<size_t>({max, data.size() - pos, 5});  // small reads: exercise refills
        std::copy(data.begin() + long(pos), data.begin() + long(pos + n), out);
        pos += n;
        return n;
      },
      [&](ByteView d) {
        if (teed) teed->insert(teed->end(), d.begin(), d.end());
      });
  return parse_rdb(
      in,
      [&](const RdbKey& k) {
        if (keys) keys->push_back(k);
        if (values) values->push_back(*k.value);
      },
      true);
}

TEST(RdbParser, CountsKeysExpiriesAndDatabases) {
  std::vector<RdbKey> keys;
  std::vector<Bytes> values;
  Bytes teed;
  Bytes rdb = sample_rdb();
  RdbSummary s = parse(rdb, &keys, &values, &teed);
  EXPECT_EQ(s.version, 10);
  EXPECT_TRUE(s.checksummed);
  EXPECT_EQ(s.aux["redis-ver"], "7.0.15");
  EXPECT_EQ(s.keys(), 4u);
  EXPECT_EQ(s.dbs[0].keys, 3u);
  EXPECT_EQ(s.dbs[0].expires, 1u);
  EXPECT_EQ(s.dbs[2].keys, 1u);
  EXPECT_EQ(s.types["string"], 3u);
  EXPECT_EQ(s.types["list"], 1u);
  EXPECT_EQ(teed, rdb);  // every byte, the trailer included, reaches the tee in order
  ASSERT_EQ(keys.size(), 4u);
  EXPECT_EQ(keys[1].key, "temp");
  EXPECT_EQ(keys[1].expire_ms, 1893456000000LL);
  EXPECT_EQ(keys[0].expire_ms, -1);
  EXPECT_EQ(keys[2].key, "num");
  EXPECT_EQ(keys[3].db, 2u);
  EXPECT_EQ(values[0], (Bytes{5, 'h', 'e', 'l', 'l', 'o'}));
  // A RESTORE payload: type, value, version 10 little-endian, CRC-64 of all that.
  Bytes p = rdb_restore_payload(0, values[0], 10);
  ASSERT_EQ(p.size(), 1 + 6 + 2 + 8u);
  EXPECT_EQ(p[7], 10);
  EXPECT_EQ(p[8], 0);
  uint64_t crc = 0;
  for (int i = 0; i < 8; i++) crc |= uint64_t(p[9 + i]) << (8 * i);
  EXPECT_EQ(crc, crc64_redis(0, ByteView(p.data(), 9)));
}

TEST(RdbParser, DetectsDamage) {
  Bytes rdb = sample_rdb();
  for (size_t at : {size_t(12), size_t(40), rdb.size() - 12}) {
    Bytes bad = rdb;
    bad[at] ^= 0x01;
    EXPECT_THROW(parse(bad), Error) << "flip at " << at;
  }
  Bytes cut(rdb.begin(), rdb.end() - 20);
  try {
    parse(cut);
    FAIL() << "a truncated RDB was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Corrupt);
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
  Bytes not_rdb(rdb.size(), 'x');
  EXPECT_THROW(parse(not_rdb), Error);
}

TEST(RedisUrl, ParsesAndNeverShowsThePassword) {
  RedisUrl u = RedisUrl::parse("redis://backup:p%40ss@cache.example:6380/2");
  EXPECT_EQ(u.host, "cache.example");
  EXPECT_EQ(u.port, 6380);
  EXPECT_EQ(u.user, "backup");
  EXPECT_EQ(u.password, "p@ss");
  EXPECT_EQ(u.db, 2);
  EXPECT_EQ(u.describe(), "redis://backup@cache.example:6380/2");
  RedisUrl t = RedisUrl::parse("rediss://[::1]:7000");
  EXPECT_TRUE(t.tls);
  EXPECT_EQ(t.host, "::1");
  EXPECT_EQ(t.describe(), "rediss://[::1]:7000");
  EXPECT_EQ(RedisUrl::parse("redis://h").port, 6379);
  EXPECT_THROW(RedisUrl::parse("redis://h:99999"), Error);
  EXPECT_THROW(RedisUrl::parse("http://h"), Error);
  try {
    RedisUrl::parse("redis://u:secret@h:notaport");
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find("secret"), std::string::npos);
  }
}

}  // namespace
}  // namespace arca
