// A streaming reader of Redis RDB files (versions up to 11, Redis 7.2): it walks the file once,
// reports each key with its database, type, expiry and — when asked — the exact bytes of its
// value, counts keys per database and type, and checks the CRC-64 trailer.
//
// Values are not decoded, only delimited: their bytes, followed by the RDB version and a
// CRC-64, are exactly the payload Redis's RESTORE command takes, so loading keys into a running
// server needs no re-encoding and keeps every encoding Redis knows (and modules' values).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "util/bytes.h"

namespace arca {

// Pull input for the parser. `refill` returns up to `max` bytes (0 = end of input). Every byte
// the parser consumes is passed to `tee` (in large pieces, in order) and fed to the checksum.
class RdbInput {
 public:
  using Refill = std::function<size_t(uint8_t* out, size_t max)>;
  using Tee = std::function<void(ByteView)>;
  explicit RdbInput(Refill refill, Tee tee = {});

  uint8_t u8();
  void read(uint8_t* out, size_t n);
  void skip(size_t n);
  // Consumed bytes between begin_record() and end_record() are collected.
  void begin_record();
  Bytes end_record();
  // CRC-64 of everything consumed so far, and stop checksumming (the trailer is not part of it).
  uint64_t checksum_and_stop();
  // Hands the consumed bytes not yet passed to `tee`; call at the end.
  void flush_tee();
  uint64_t consumed() const { return consumed_; }
  // The input's total size, when known (a replication payload announced with "$<length>"):
  // declared lengths beyond what remains are refused at once (see docs/security.md).
  void set_size(uint64_t total) { size_ = total; }
  uint64_t remaining() const { return consumed_ >= size_ ? 0 : size_ - consumed_; }
  // Bytes buffered beyond what was consumed (e.g. what follows the RDB on a replication link).
  ByteView leftover() const { return ByteView(buf_.data() + pos_, end_ - pos_); }
  void set_context(std::string what) { what_ = std::move(what); }
  const std::string& context() const { return what_; }

 private:
  void more();
  void sync();
  Refill refill_;
  Tee tee_;
  Bytes buf_;
  size_t pos_ = 0, end_ = 0, mark_ = 0;
  uint64_t consumed_ = 0, crc_ = 0, size_ = UINT64_MAX;
  bool crc_on_ = true, recording_ = false;
  Bytes rec_;
  std::string what_ = "the RDB data";
};

struct RdbKey {
  uint32_t db = 0;
  std::string key;
  uint8_t type = 0;              // RDB value type byte
  int64_t expire_ms = -1;        // absolute Unix time in ms; -1 = none
  const Bytes* value = nullptr;  // the value's bytes (type byte not included), when asked for
};

struct RdbDbCounts {
  uint64_t keys = 0, expires = 0;
};

struct RdbSummary {
  int version = 0;
  std::map<std::string, std::string> aux;  // redis-ver, repl-id, repl-offset, …
  std::map<uint32_t, RdbDbCounts> dbs;     // databases that hold keys
  std::map<std::string, uint64_t> types;   // keys per type name
  uint64_t functions = 0;                  // function libraries (Redis 7)
  bool checksummed = false;                // false: written with rdbchecksum no
  uint64_t bytes = 0;
  uint64_t keys() const;
};

// The name of an RDB value type ("string", "hash", "stream", …).
const char* rdb_type_name(uint8_t type);

// Parses the whole file; throws Error(Corrupt) naming the input's context and byte offset.
// `want_values` makes RdbKey::value point at the value's bytes during the callback.
RdbSummary parse_rdb(RdbInput& in, const std::function<void(const RdbKey&)>& on_key, bool want_values);

// The DUMP/RESTORE payload of a key: type byte, value, RDB version (2 bytes LE), CRC-64 (8 bytes LE).
Bytes rdb_restore_payload(uint8_t type, const Bytes& value, int rdb_version);

// LZF expands at most this much (a 3-byte back-reference copies 264 bytes).
constexpr uint64_t kLzfMaxRatio = 88;

// Decompresses LZF data (the RDB's compressed strings); throws Error(Corrupt) if it is malformed
// or declares more than kLzfMaxRatio times its size (checked before anything is allocated).
Bytes lzf_decompress(ByteView in, size_t out_len);

}  // namespace arca
