// Kafka records as Arca stores them in partition segments (see docs/repository-format.md §11):
// each record is length-prefixed and self-contained, so a segment's blobs can be decoded
// independently, and an offset or time range skips whole blobs through the segment index.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/bytes.h"

namespace arca {

struct KafkaRecord {
  int64_t offset = 0;
  int64_t timestamp = -1;                 // ms since the epoch; -1 = none
  uint8_t timestamp_type = 0;             // 0 none, 1 CreateTime, 2 LogAppendTime
  std::optional<std::string> key, value;  // nullopt = null (a tombstone has a null value)
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
};

// A decoded record whose fields point into the buffer it was decoded from (no copies: for
// replaying millions of records).
struct KafkaRecordView {
  int64_t offset = 0, timestamp = -1;
  uint8_t timestamp_type = 0;
  std::optional<std::string_view> key, value;
  std::vector<std::pair<std::string_view, std::optional<std::string_view>>> headers;
};

// Appends one encoded record to `out`.
void encode_record(const KafkaRecord& r, Bytes& out);
void encode_record(const KafkaRecordView& r, Bytes& out);
// Decodes the record at `pos` and advances it; throws Error(Corrupt) naming `what`.
KafkaRecord decode_record(ByteView data, size_t& pos, const std::string& what);
// The same into `out` (its header vector is reused), pointing into `data`.
void decode_record_view(ByteView data, size_t& pos, const std::string& what, KafkaRecordView& out);

}  // namespace arca
