#include "sources/redis/rdb_parser.h"

#include <cstring>

#include "sources/redis/crc64.h"
#include "util/error.h"

namespace arca {

// ---- input ----

RdbInput::RdbInput(Refill refill, Tee tee) : refill_(std::move(refill)), tee_(std::move(tee)), buf_(1 << 20) {}

void RdbInput::sync() {
  if (mark_ == pos_) return;
  ByteView done(buf_.data() + mark_, pos_ - mark_);
  if (crc_on_) crc_ = crc64_redis(crc_, done);
  if (tee_) tee_(done);
  mark_ = pos_;
}

void RdbInput::more() {
  sync();
  pos_ = mark_ = end_ = 0;
  size_t n = refill_(buf_.data(), buf_.size());
  if (n == 0)
    throw Error(ErrorKind::Corrupt, what_ + " ends early, after " + std::to_string(consumed_) +
                                        " bytes: the file is truncated (or the transfer was cut short)");
  end_ = n;
}

uint8_t RdbInput::u8() {
  if (pos_ == end_) more();
  uint8_t b = buf_[pos_++];
  consumed_++;
  if (recording_) rec_.push_back(b);
  return b;
}

void RdbInput::read(uint8_t* out, size_t n) {
  while (n > 0) {
    if (pos_ == end_) more();
    size_t k = std::min(n, end_ - pos_);
    if (out) {
      std::memcpy(out, buf_.data() + pos_, k);
      out += k;
    }
    if (recording_) rec_.insert(rec_.end(), buf_.begin() + long(pos_), buf_.begin() + long(pos_ + k));
    pos_ += k;
    consumed_ += k;
    n -= k;
  }
}

void RdbInput::skip(size_t n) { read(nullptr, n); }

void RdbInput::begin_record() {
  rec_.clear();
  recording_ = true;
}

Bytes RdbInput::end_record() {
  recording_ = false;
  return std::move(rec_);
}

uint64_t RdbInput::checksum_and_stop() {
  sync();
  crc_on_ = false;
  return crc_;
}

void RdbInput::flush_tee() { sync(); }

// ---- parser ----

namespace {

// No string in an RDB is longer than Redis's own proto-max-bulk-len limit allows (512 MiB by
// default): a larger length is damage, not a reason to allocate.
constexpr uint64_t kMaxString = 512ull << 20;
// Strings are read in pieces of this size, so memory grows with the bytes that actually arrive,
// not with the length a (possibly hostile) master declares (see docs/security.md).
constexpr size_t kReadPiece = 1 << 20;

constexpr uint8_t kOpSlotInfo = 0xF4, kOpFunction2 = 0xF5, kOpFunctionPreGa = 0xF6, kOpModuleAux = 0xF7, kOpIdle = 0xF8,
                  kOpFreq = 0xF9, kOpAux = 0xFA, kOpResizeDb = 0xFB, kOpExpireMs = 0xFC, kOpExpireSec = 0xFD,
                  kOpSelectDb = 0xFE, kOpEof = 0xFF;

class Parser {
 public:
  explicit Parser(RdbInput& in) : in_(in) {}

  [[noreturn]] void corrupt(const std::string& what) {
    throw Error(ErrorKind::Corrupt,
                in_.context() + " is damaged at byte " + std::to_string(in_.consumed()) + ": " + what);
  }

  uint64_t le(size_t n) {
    uint8_t b[8];
    in_.read(b, n);
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v |= uint64_t(b[i]) << (8 * i);
    return v;
  }
  uint64_t be(size_t n) {
    uint8_t b[8];
    in_.read(b, n);
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v = (v << 8) | b[i];
    return v;
  }

  // A length; `encoded` is set for the special string encodings (the value is then the kind).
  uint64_t len(bool* encoded = nullptr) {
    uint8_t b = in_.u8();
    if (encoded) *encoded = false;
    switch (b >> 6) {
      case 0:
        return b & 0x3F;
      case 1:
        return (uint64_t(b & 0x3F) << 8) | in_.u8();
      case 2:
        if (b == 0x80) return be(4);
        if (b == 0x81) return be(8);
        corrupt("unknown length prefix " + std::to_string(b));
      default:
        if (!encoded) corrupt("an encoded string where a length was expected");
        *encoded = true;
        return b & 0x3F;
    }
  }

  uint64_t checked_len(uint64_t limit = uint64_t(1) << 40) {
    uint64_t n = len();
    if (n > limit) corrupt("implausible length " + std::to_string(n));
    return n;
  }

  // A declared size of `n` bytes that must follow: refused at once when the input is known to
  // be shorter.
  void need(uint64_t n, const char* what) {
    if (n > in_.remaining())
      corrupt("declares " + std::string(what) + " of " + std::to_string(n) + " bytes, but only " +
              std::to_string(in_.remaining()) + " bytes of the RDB data remain");
  }

  // `n` bytes, read in pieces: allocation follows what arrives, not what was declared.
  template <class Buf>
  Buf read_bytes(uint64_t n, const char* what) {
    need(n, what);
    Buf b;
    while (b.size() < n) {
      size_t have = b.size(), k = size_t(std::min<uint64_t>(n - have, kReadPiece));
      b.resize(have + k);
      in_.read(reinterpret_cast<uint8_t*>(b.data()) + have, k);
    }
    return b;
  }

  void skip_string() {
    bool enc;
    uint64_t n = len(&enc);
    if (!enc) {
      need(n, "a string");
      return in_.skip(n);
    }
    switch (n) {
      case 0:
        return in_.skip(1);
      case 1:
        return in_.skip(2);
      case 2:
        return in_.skip(4);
      case 3: {
        uint64_t clen = checked_len();
        checked_len();
        need(clen, "a compressed string");
        return in_.skip(clen);
      }
      default:
        corrupt("unknown string encoding " + std::to_string(n));
    }
  }

  std::string string() {
    bool enc;
    uint64_t n = len(&enc);
    if (!enc) {
      if (n > kMaxString) corrupt("implausible string length " + std::to_string(n));
      return read_bytes<std::string>(n, "a string");
    }
    switch (n) {
      case 0:
        return std::to_string(int8_t(in_.u8()));
      case 1:
        return std::to_string(int16_t(le(2)));
      case 2:
        return std::to_string(int32_t(le(4)));
      case 3: {
        uint64_t clen = checked_len(kMaxString), ulen = checked_len(kMaxString);
        if (ulen > clen * kLzfMaxRatio)
          corrupt("a compressed string of " + std::to_string(clen) + " bytes declares " + std::to_string(ulen) +
                  " bytes uncompressed, more than LZF can expand to");
        Bytes c = read_bytes<Bytes>(clen, "a compressed string");
        Bytes u;
        try {
          u = lzf_decompress(c, ulen);
        } catch (const Error& e) {
          corrupt(e.what());
        }
        return std::string(u.begin(), u.end());
      }
      default:
        corrupt("unknown string encoding " + std::to_string(n));
    }
  }

  // The opcode-typed data modules write; ends with opcode 0.
  void skip_module_data() {
    while (true) {
      uint64_t op = len();
      switch (op) {
        case 0:
          return;
        case 1:
        case 2:
          len();
          break;
        case 3:
          in_.skip(4);
          break;
        case 4:
          in_.skip(8);
          break;
        case 5:
          skip_string();
          break;
        default:
          corrupt("unknown module data opcode " + std::to_string(op));
      }
    }
  }

  void skip_pel(bool with_delivery) {
    uint64_t n = checked_len();
    for (uint64_t i = 0; i < n; i++) {
      in_.skip(16);
      if (with_delivery) {
        in_.skip(8);
        len();
      }
    }
  }

  void skip_stream(uint8_t type) {
    uint64_t listpacks = checked_len();
    for (uint64_t i = 0; i < listpacks; i++) {
      skip_string();
      skip_string();
    }
    len();         // length
    len(), len();  // last id
    if (type >= 19) {
      len(), len();  // first id
      len(), len();  // max deleted id
      len();         // entries added
    }
    uint64_t groups = checked_len();
    for (uint64_t g = 0; g < groups; g++) {
      skip_string();
      len(), len();
      if (type >= 19) len();  // entries read
      skip_pel(true);
      uint64_t consumers = checked_len();
      for (uint64_t c = 0; c < consumers; c++) {
        skip_string();
        in_.skip(8);                  // seen time
        if (type >= 21) in_.skip(8);  // active time
        skip_pel(false);
      }
    }
  }

  void skip_value(uint8_t type) {
    switch (type) {
      case 0:
        return skip_string();
      case 1:
      case 2:
      case 14: {
        uint64_t n = checked_len();
        for (uint64_t i = 0; i < n; i++) skip_string();
        return;
      }
      case 3: {
        uint64_t n = checked_len();
        for (uint64_t i = 0; i < n; i++) {
          skip_string();
          uint8_t l = in_.u8();
          if (l < 253) in_.skip(l);
        }
        return;
      }
      case 4: {
        uint64_t n = checked_len();
        for (uint64_t i = 0; i < 2 * n; i++) skip_string();
        return;
      }
      case 5: {
        uint64_t n = checked_len();
        for (uint64_t i = 0; i < n; i++) {
          skip_string();
          in_.skip(8);
        }
        return;
      }
      case 7:
        len();  // module id
        return skip_module_data();
      case 9:
      case 10:
      case 11:
      case 12:
      case 13:
      case 16:
      case 17:
      case 20:
        return skip_string();
      case 18: {
        uint64_t n = checked_len();
        for (uint64_t i = 0; i < n; i++) {
          len();  // container kind
          skip_string();
        }
        return;
      }
      case 15:
      case 19:
      case 21:
        return skip_stream(type);
      default:
        corrupt("value type " + std::to_string(type) +
                " is not one Arca knows (written by a newer Redis, or a module type of Redis < 4?)");
    }
  }

  RdbInput& in_;
};

}  // namespace

uint64_t RdbSummary::keys() const {
  uint64_t n = 0;
  for (const auto& [db, c] : dbs) n += c.keys;
  return n;
}

const char* rdb_type_name(uint8_t type) {
  switch (type) {
    case 0:
      return "string";
    case 1:
    case 10:
    case 14:
    case 18:
      return "list";
    case 2:
    case 11:
    case 20:
      return "set";
    case 3:
    case 5:
    case 12:
    case 17:
      return "zset";
    case 4:
    case 9:
    case 13:
    case 16:
      return "hash";
    case 6:
    case 7:
      return "module";
    case 15:
    case 19:
    case 21:
      return "stream";
    default:
      return "unknown";
  }
}

RdbSummary parse_rdb(RdbInput& in, const std::function<void(const RdbKey&)>& on_key, bool want_values) {
  Parser p(in);
  RdbSummary s;
  uint8_t magic[9];
  in.read(magic, 9);
  if (std::memcmp(magic, "REDIS", 5) != 0) p.corrupt("it does not start with REDIS: not an RDB file");
  for (int i = 5; i < 9; i++) {
    if (magic[i] < '0' || magic[i] > '9') p.corrupt("bad RDB version");
    s.version = s.version * 10 + (magic[i] - '0');
  }
  if (s.version < 1 || s.version > 11)
    p.corrupt("RDB version " + std::to_string(s.version) + " is not supported (1 to 11, Redis up to 7.2)");
  RdbKey key;
  Bytes value;
  while (true) {
    uint8_t op = in.u8();
    switch (op) {
      case kOpEof: {
        uint64_t crc = in.checksum_and_stop();
        if (s.version >= 5) {
          uint64_t stored = p.le(8);
          s.checksummed = stored != 0;
          if (stored != 0 && stored != crc)
            throw Error(ErrorKind::Corrupt, in.context() + " fails its CRC-64 check (the file holds " +
                                                std::to_string(stored) + ", its content gives " + std::to_string(crc) +
                                                "): it is damaged");
        }
        in.flush_tee();
        s.bytes = in.consumed();
        return s;
      }
      case kOpSelectDb:
        key.db = uint32_t(p.checked_len(1 << 24));
        break;
      case kOpResizeDb:
        p.len(), p.len();
        break;
      case kOpAux: {
        std::string k = p.string();
        s.aux[k] = p.string();
        break;
      }
      case kOpExpireSec:
        key.expire_ms = int64_t(p.le(4)) * 1000;
        break;
      case kOpExpireMs:
        key.expire_ms = int64_t(p.le(8));
        break;
      case kOpFreq:
        in.skip(1);
        break;
      case kOpIdle:
        p.len();
        break;
      case kOpModuleAux:
        p.len(), p.len(), p.len();
        p.skip_module_data();
        break;
      case kOpFunction2:
        p.skip_string();
        s.functions++;
        break;
      case kOpFunctionPreGa:
        p.corrupt("functions in the pre-release Redis 7.0 format are not supported");
      case kOpSlotInfo:
        p.len(), p.len(), p.len();
        break;
      default: {
        key.type = op;
        key.key = p.string();
        if (want_values) in.begin_record();
        p.skip_value(op);
        if (want_values) {
          value = in.end_record();
          key.value = &value;
        }
        auto& c = s.dbs[key.db];
        c.keys++;
        if (key.expire_ms >= 0) c.expires++;
        s.types[rdb_type_name(op)]++;
        if (on_key) on_key(key);
        key.expire_ms = -1;
        key.value = nullptr;
      }
    }
  }
}

Bytes rdb_restore_payload(uint8_t type, const Bytes& value, int rdb_version) {
  Bytes p;
  p.reserve(value.size() + 11);
  p.push_back(type);
  p.insert(p.end(), value.begin(), value.end());
  p.push_back(uint8_t(rdb_version & 0xff));
  p.push_back(uint8_t(rdb_version >> 8));
  uint64_t crc = crc64_redis(0, p);
  for (int i = 0; i < 8; i++) p.push_back(uint8_t(crc >> (8 * i)));
  return p;
}

Bytes lzf_decompress(ByteView in, size_t out_len) {
  auto bad = [] { throw Error(ErrorKind::Corrupt, "a compressed (LZF) string in the RDB data is damaged"); };
  // The declared size allocates only once it is possible (see docs/security.md).
  if (out_len > in.size() * kLzfMaxRatio) bad();
  Bytes out;
  out.reserve(std::min<size_t>(out_len, in.size() * 4));
  size_t i = 0;
  while (i < in.size()) {
    unsigned ctrl = in[i++];
    if (ctrl < 32) {
      size_t n = ctrl + 1;
      if (i + n > in.size() || out.size() + n > out_len) bad();
      out.insert(out.end(), in.begin() + long(i), in.begin() + long(i + n));
      i += n;
    } else {
      size_t n = ctrl >> 5;
      if (n == 7) {
        if (i >= in.size()) bad();
        n += in[i++];
      }
      if (i >= in.size()) bad();
      size_t back = ((ctrl & 0x1f) << 8) + in[i++] + 1;
      n += 2;
      if (back > out.size() || out.size() + n > out_len) bad();
      size_t from = out.size() - back;
      for (size_t k = 0; k < n; k++) out.push_back(out[from + k]);
    }
  }
  if (out.size() != out_len) bad();
  return out;
}

}  // namespace arca
