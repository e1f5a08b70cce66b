// Kafka pieces that need no cluster: the record encoding (nulls, headers, damage), segment
// bookkeeping and checksums, the index JSON round trip, and group offset translation.
#include <gtest/gtest.h>

#include "sources/kafka/kafka_archive.h"
#include "sources/kafka/kafka_restore.h"
#include "sources/kafka/record_codec.h"
#include "util/error.h"

namespace arca {
namespace {

KafkaRecord sample(int64_t offset) {
  KafkaRecord r;
  r.offset = offset;
  r.timestamp = 1'700'000'000'000 + offset;
  r.timestamp_type = 1;
  r.key = "key-" + std::to_string(offset);
  r.value = std::string("v\0lue", 5);
  r.headers = {{"trace", std::string("\x00\xff", 2)}, {"empty", std::nullopt}, {"", std::string()}};
  return r;
}

TEST(KafkaRecordCodec, RoundTripsNullsHeadersAndBinary) {
  Bytes buf;
  KafkaRecord a = sample(7), b;
  b.offset = 8;
  b.timestamp = -1;  // no timestamp, null key, tombstone
  encode_record(a, buf);
  encode_record(b, buf);
  size_t pos = 0;
  KafkaRecord x = decode_record(buf, pos, "test");
  KafkaRecord y = decode_record(buf, pos, "test");
  EXPECT_EQ(pos, buf.size());
  EXPECT_EQ(x.offset, 7);
  EXPECT_EQ(x.timestamp, a.timestamp);
  EXPECT_EQ(x.timestamp_type, 1);
  EXPECT_EQ(x.key, a.key);
  EXPECT_EQ(x.value, a.value);
  EXPECT_EQ(x.headers, a.headers);
  EXPECT_FALSE(y.key.has_value());
  EXPECT_FALSE(y.value.has_value());
  EXPECT_EQ(y.timestamp, -1);
  EXPECT_TRUE(y.headers.empty());
}

TEST(KafkaRecordCodec, DamageIsNamed) {
  Bytes buf;
  encode_record(sample(1), buf);
  for (size_t cut = 1; cut < buf.size(); cut++) {
    Bytes part(buf.begin(), buf.begin() + long(cut));
    size_t pos = 0;
    try {
      decode_record(part, pos, "topics/t/0/x.seg");
      FAIL() << "a record cut at " << cut << " decoded";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Corrupt);
      EXPECT_NE(std::string(e.what()).find("topics/t/0/x.seg"), std::string::npos);
    }
  }
}

TEST(KafkaArchive, SegmentsAndIndexRoundTrip) {
  KafkaPartitionArchive p;
  p.partition = 3;
  p.next_offset = 250;
  p.gaps.push_back({0, 9, "before the log start when archiving began"});
  KafkaSegment s;
  KafkaBlobEntry b1{Id{}, Id{}, 10, 99, 90, 1000, 5, 50}, b2{Id{}, Id{}, 100, 249, 150, 2000, 40, 90};
  b1.id.b[0] = 1;
  b2.id.b[0] = 2;
  b1.sha256.b[0] = 3;
  s.add(b1);
  s.add(b2);
  EXPECT_EQ(s.first, 10);
  EXPECT_EQ(s.last, 249);
  EXPECT_EQ(s.records, 240u);
  EXPECT_EQ(s.min_ts, 5);
  EXPECT_EQ(s.max_ts, 90);
  EXPECT_EQ(s.name(), "00000000000000000010.seg");
  p.segments.push_back(s);
  p.records = 240;
  p.bytes = 3000;
  KafkaPartitionArchive q = KafkaPartitionArchive::from_json(p.to_json(), "index.json");
  EXPECT_EQ(q.to_json(), p.to_json());
  ASSERT_EQ(q.segments.size(), 1u);
  EXPECT_EQ(q.segments[0].checksum(), s.checksum());
  // A blob list that does not add up to the recorded segment is refused.
  auto j = p.to_json();
  j["segments"][0]["records"] = 241;
  EXPECT_THROW(KafkaPartitionArchive::from_json(j, "index.json"), Error);
  j = p.to_json();
  j["segments"][0]["blobs"][1][1] = std::string(64, 'f');
  EXPECT_THROW(KafkaPartitionArchive::from_json(j, "index.json"), Error);
  // Partition numbers index the restore's tables: out-of-range ones are damage.
  for (int bad : {-1, kMaxKafkaPartition}) {
    j = p.to_json();
    j["partition"] = bad;
    try {
      KafkaPartitionArchive::from_json(j, "index.json");
      ADD_FAILURE() << "partition " << bad << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Corrupt);
      EXPECT_NE(std::string(e.what()).find("out of range"), std::string::npos) << e.what();
    }
  }
}

TEST(KafkaRestore, TranslatesGroupOffsets) {
  // Old offsets 0..9 went to 50..59, then (after 10..19 absent) 20..29 went to 60..69.
  nlohmann::json runs = {{0, 50, 10, 2}, {20, 60, 10, 2}};
  EXPECT_EQ(translate_offset(runs, 0), std::make_pair(2, int64_t(50)));
  EXPECT_EQ(translate_offset(runs, 5), std::make_pair(2, int64_t(55)));
  EXPECT_EQ(translate_offset(runs, 10), std::make_pair(2, int64_t(60)));  // absent: the next restored record
  EXPECT_EQ(translate_offset(runs, 25), std::make_pair(2, int64_t(65)));
  EXPECT_EQ(translate_offset(runs, 30), std::make_pair(2, int64_t(70)));  // consumed everything
  EXPECT_EQ(translate_offset(runs, 99), std::make_pair(2, int64_t(70)));
  EXPECT_FALSE(translate_offset(nlohmann::json::array(), 5).has_value());
}

}  // namespace
}  // namespace arca
