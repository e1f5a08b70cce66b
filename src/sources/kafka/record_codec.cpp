#include "sources/kafka/record_codec.h"

#include <cstring>

#include "util/error.h"

namespace arca {

namespace {

// Writes into space reserved beforehand: archiving encodes a million records a second, and
// growing the buffer byte by byte showed up in profiles.
struct RecordWriter {
  uint8_t* p;
  void varint(uint64_t v) {
    while (v >= 0x80) {
      *p++ = uint8_t(v) | 0x80;
      v >>= 7;
    }
    *p++ = uint8_t(v);
  }
  void le64(uint64_t v) {
    for (int i = 0; i < 8; i++) *p++ = uint8_t(v >> (8 * i));
  }
  void raw(std::string_view s) {
    if (!s.empty()) std::memcpy(p, s.data(), s.size());
    p += s.size();
  }
  // Length + 1, so that 0 can mean null.
  void nullable(const std::optional<std::string_view>& s) {
    if (!s) return varint(0);
    varint(s->size() + 1);
    raw(*s);
  }
};

struct RecordReader {
  ByteView d;
  size_t& pos;
  const std::string& what;
  [[noreturn]] void bad(const char* why) {
    throw Error(ErrorKind::Corrupt, what + " is damaged at byte " + std::to_string(pos) + ": " + why);
  }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= d.size()) bad("a number runs past the end");
      uint8_t b = d[pos++];
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    bad("a number is too long");
  }
  uint64_t le64() {
    if (pos + 8 > d.size()) bad("a field runs past the end");
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= uint64_t(d[pos + i]) << (8 * i);
    pos += 8;
    return v;
  }
  std::optional<std::string_view> nullable() {
    uint64_t n = varint();
    if (n == 0) return std::nullopt;
    n--;
    if (n > d.size() - pos) bad("a field is longer than the data");
    std::string_view s(reinterpret_cast<const char*>(d.data() + pos), n);
    pos += n;
    return s;
  }
};

}  // namespace

size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) v >>= 7, n++;
  return n;
}

size_t nullable_size(const std::optional<std::string_view>& s) {
  return s ? varint_size(s->size() + 1) + s->size() : 1;
}

void encode_record(const KafkaRecordView& r, Bytes& out) {
  // The length prefix comes first, so the body's size is worked out before writing it in place.
  size_t body = 8 + 8 + 1 + nullable_size(r.key) + nullable_size(r.value) + varint_size(r.headers.size());
  for (const auto& [name, value] : r.headers) body += varint_size(name.size()) + name.size() + nullable_size(value);
  size_t start = out.size();
  out.resize(start + varint_size(body) + body);
  RecordWriter w{out.data() + start};
  w.varint(body);
  w.le64(uint64_t(r.offset));
  w.le64(uint64_t(r.timestamp));
  *w.p++ = r.timestamp_type;
  w.nullable(r.key);
  w.nullable(r.value);
  w.varint(r.headers.size());
  for (const auto& [name, value] : r.headers) {
    w.varint(name.size());
    w.raw(name);
    w.nullable(value);
  }
  // The size above and the writing must describe the same layout (the unit tests end here).
  if (w.p != out.data() + out.size())
    throw Error(ErrorKind::Generic, "internal error: a Kafka record's encoded size is wrong");
}

void encode_record(const KafkaRecord& r, Bytes& out) {
  KafkaRecordView v;
  v.offset = r.offset;
  v.timestamp = r.timestamp;
  v.timestamp_type = r.timestamp_type;
  if (r.key) v.key = *r.key;
  if (r.value) v.value = *r.value;
  for (const auto& [n, val] : r.headers)
    v.headers.emplace_back(n, val ? std::optional<std::string_view>(*val) : std::nullopt);
  encode_record(v, out);
}

void decode_record_view(ByteView data, size_t& pos, const std::string& what, KafkaRecordView& rec) {
  RecordReader top{data, pos, what};
  uint64_t len = top.varint();
  if (len > data.size() - pos) top.bad("a record is longer than the data");
  size_t end = pos + len;
  ByteView body = data.subspan(0, end);
  RecordReader r{body, pos, what};
  rec.offset = int64_t(r.le64());
  rec.timestamp = int64_t(r.le64());
  if (pos >= end) r.bad("a record is cut short");
  rec.timestamp_type = body[pos++];
  rec.key = r.nullable();
  rec.value = r.nullable();
  uint64_t headers = r.varint();
  if (headers > len) r.bad("implausible header count");
  rec.headers.clear();
  for (uint64_t i = 0; i < headers; i++) {
    uint64_t n = r.varint();
    if (n > end - pos) r.bad("a header name is longer than the record");
    std::string_view name(reinterpret_cast<const char*>(body.data() + pos), n);
    pos += n;
    rec.headers.emplace_back(name, r.nullable());
  }
  if (pos != end) r.bad("a record has trailing bytes");
}

KafkaRecord decode_record(ByteView data, size_t& pos, const std::string& what) {
  KafkaRecordView v;
  decode_record_view(data, pos, what, v);
  KafkaRecord r;
  r.offset = v.offset;
  r.timestamp = v.timestamp;
  r.timestamp_type = v.timestamp_type;
  if (v.key) r.key.emplace(*v.key);
  if (v.value) r.value.emplace(*v.value);
  for (const auto& [n, val] : v.headers)
    r.headers.emplace_back(std::string(n), val ? std::optional<std::string>(std::string(*val)) : std::nullopt);
  return r;
}

}  // namespace arca
