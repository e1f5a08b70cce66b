#include "sources/postgres/wal_records.h"

#include <array>

namespace arca {

namespace {

// XLOG_PAGE_MAGIC of PostgreSQL 12, 13, 14, 15 and 16 (xlog_internal.h).
constexpr std::array<uint16_t, 5> kPageMagics = {0xD101, 0xD106, 0xD10D, 0xD110, 0xD113};
constexpr uint16_t kMagicPg15 = 0xD110;

// Page headers (MAXALIGNed sizes) and their xlp_info bits.
constexpr size_t kShortPageHeader = 24, kLongPageHeader = 40;
constexpr uint16_t kFirstIsContRecord = 0x0001, kLongHeader = 0x0002, kAllPageFlags = 0x000F;

// XLogRecord: xl_tot_len u32 @0, xl_xid u32 @4, xl_prev u64 @8, xl_info u8 @16, xl_rmid u8 @17,
// 2 bytes padding, xl_crc u32 @20.
constexpr size_t kRecordHeader = 24, kCrcOffset = 20;
constexpr uint32_t kMaxRecord = 1u << 30;  // XLogRecordMaxSize is 1020 MB
constexpr uint8_t kRmXlog = 0, kRmXact = 1;
constexpr uint8_t kXlogSwitch = 0x40;
constexpr uint8_t kXactOpMask = 0x70, kXactCommit = 0x00, kXactAbort = 0x20, kXactCommitPrepared = 0x30,
                  kXactAbortPrepared = 0x40;

// Block references and data headers after the record header (xlogrecord.h).
constexpr uint8_t kMaxBlockId = 32, kBlockIdDataShort = 255, kBlockIdDataLong = 254, kBlockIdOrigin = 253,
                  kBlockIdToplevelXid = 252;
constexpr uint8_t kBlockHasImage = 0x10, kBlockHasData = 0x20, kBlockSameRel = 0x80;
constexpr uint8_t kImageHasHole = 0x01;
constexpr uint8_t kImageCompressedPg14 = 0x02, kImageCompressedPg15 = 0x04 | 0x08 | 0x10;
constexpr size_t kRelLocator = 12;  // RelFileNode / RelFileLocator: three OIDs

uint16_t le16(const uint8_t* p) { return uint16_t(p[0] | p[1] << 8); }
uint32_t le32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t le64(const uint8_t* p) { return uint64_t(le32(p)) | uint64_t(le32(p + 4)) << 32; }
Lsn max_align(Lsn v) { return (v + 7) & ~Lsn(7); }
bool power_of_two(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as PostgreSQL's pg_crc32c.
const std::array<uint32_t, 256>& crc_table() {
  static const std::array<uint32_t, 256> t = [] {
    std::array<uint32_t, 256> r{};
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      r[i] = c;
    }
    return r;
  }();
  return t;
}
uint32_t crc32c_update(uint32_t crc, const uint8_t* p, size_t n) {
  const auto& t = crc_table();
  for (size_t i = 0; i < n; i++) crc = t[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return crc;
}

std::string hex_lsn(Lsn l) { return format_lsn(l); }

// Where one record's parsing stopped.
struct Stop {
  WalSegmentScan::End end;
  std::string detail;
};

// The records of one segment (and the start of the next), addressed by LSN.
class SegmentReader {
 public:
  SegmentReader(ByteView seg, ByteView next, WalSegmentScan& out) : seg_(seg), next_(next), out_(out) {}

  void run() {
    if (auto s = read_long_header()) return finish(*s);
    Lsn pos = out_.start + kLongPageHeader;
    if (first_info_ & kFirstIsContRecord) {
      // The tail of a record that began in the previous segment: skip it.
      auto s = skip_continuation(pos, first_rem_len_);
      if (s) return finish(*s);
      pos = max_align(pos);
    }
    std::optional<Lsn> prev;
    Bytes rec;
    while (true) {
      if (pos >= out_.start + out_.segment_size) return finish({WalSegmentScan::End::SegmentEnd, ""});
      if (pos % page_ == 0) {
        uint16_t info = 0;
        uint32_t rem = 0;
        size_t hdr = 0;
        if (auto s = page_header(pos, info, rem, hdr)) return finish(*s);
        if (info & kFirstIsContRecord)
          return finish({WalSegmentScan::End::Invalid,
                         "page at " + hex_lsn(pos) + " continues a record where a new one should start"});
        pos += hdr;
      }
      const Lsn at = pos;
      size_t avail = 0;
      const uint8_t* p = bytes_at(pos, avail);
      if (!p || avail < 4) return finish(input_end(pos, "a record's length"));
      const uint32_t tot = le32(p);
      if (tot == 0) return finish({WalSegmentScan::End::Zeros, ""});
      if (tot < kRecordHeader || tot > kMaxRecord)
        return finish({WalSegmentScan::End::Invalid,
                       "record at " + hex_lsn(at) + " has an impossible length " + std::to_string(tot)});
      if (auto s = gather(pos, tot, rec)) return finish(*s);
      if (auto s = check_record(rec, at, prev)) return finish(*s);
      out_.records++;
      if (!out_.first_record) out_.first_record = at;
      out_.last_record = at;
      out_.end_lsn = pos;
      prev = at;
      const uint8_t info = rec[16], rmid = rec[17];
      if (rmid == kRmXlog && (info & 0xF0) == kXlogSwitch) return finish({WalSegmentScan::End::Switch, ""});
      if (rmid == kRmXact)
        if (auto s = note_xact(rec, at, info)) return finish(*s);
      pos = max_align(pos);
    }
  }

 private:
  void finish(const Stop& s) {
    out_.end = s.end;
    out_.detail = s.detail;
  }

  // The segment's first page: a long header that names the cluster, the sizes and the LSN.
  std::optional<Stop> read_long_header() {
    auto invalid = [](const std::string& why) { return Stop{WalSegmentScan::End::Invalid, why}; };
    if (seg_.size() < kLongPageHeader) {
      bool zeros = true;
      for (uint8_t b : seg_) zeros = zeros && b == 0;
      if (zeros && !seg_.empty()) return Stop{WalSegmentScan::End::Zeros, ""};
      return Stop{WalSegmentScan::End::Truncated,
                  "the input (" + std::to_string(seg_.size()) + " bytes) is shorter than a WAL segment's header"};
    }
    const uint8_t* h = seg_.data();
    bool zeros = true;
    for (size_t i = 0; i < kLongPageHeader; i++) zeros = zeros && h[i] == 0;
    if (zeros) return Stop{WalSegmentScan::End::Zeros, ""};  // allocated, never written
    const uint16_t magic = le16(h);
    bool known = false;
    for (uint16_t m : kPageMagics) known = known || m == magic;
    if (!known) return invalid("not a WAL segment of PostgreSQL 12-16 (page magic " + std::to_string(magic) + ")");
    first_info_ = le16(h + 2);
    if (!(first_info_ & kLongHeader) || (first_info_ & ~kAllPageFlags))
      return invalid("the segment's first page has no long header (flags " + std::to_string(first_info_) + ")");
    const uint32_t seg_size = le32(h + 32), page = le32(h + 36);
    if (!power_of_two(seg_size) || seg_size < (1u << 20) || seg_size > (1u << 30))
      return invalid("impossible WAL segment size " + std::to_string(seg_size));
    if (!power_of_two(page) || page < 1024 || page > 65536)
      return invalid("impossible WAL page size " + std::to_string(page));
    const Lsn start = le64(h + 8);
    if (start % seg_size != 0) return invalid("the segment's address " + hex_lsn(start) + " is not a segment start");
    out_.page_magic = magic;
    out_.timeline = le32(h + 4);
    out_.start = start;
    out_.system_id = le64(h + 24);
    out_.segment_size = seg_size;
    out_.page_size = page;
    first_rem_len_ = le32(h + 16);
    page_ = page;
    if (next_.size() > seg_size) next_ = next_.first(seg_size);
    if (seg_.size() > seg_size) seg_ = seg_.first(seg_size);
    compressed_mask_ = magic >= kMagicPg15 ? kImageCompressedPg15 : kImageCompressedPg14;
    return std::nullopt;
  }

  // The input bytes at `lsn` up to the end of its page or of the input; null outside the input.
  const uint8_t* bytes_at(Lsn lsn, size_t& avail) const {
    avail = 0;
    if (lsn < out_.start) return nullptr;
    const uint64_t off = lsn - out_.start;
    ByteView v = seg_;
    uint64_t in = off;
    if (off >= out_.segment_size) {
      v = next_;
      in = off - out_.segment_size;
    }
    if (in >= v.size()) return nullptr;
    const uint64_t page_left = page_ - lsn % page_;
    avail = size_t(std::min<uint64_t>(page_left, v.size() - in));
    return v.data() + in;
  }

  // Where the input ends inside something still to be read.
  Stop input_end(Lsn lsn, const std::string& what) const {
    if (lsn >= out_.start + out_.segment_size && next_.empty())
      return {WalSegmentScan::End::NextSegment, "a record continues into the next segment at " + hex_lsn(lsn)};
    return {WalSegmentScan::End::Truncated, "the input ends at " + hex_lsn(lsn) + " inside " + what};
  }

  // Checks the header of the page starting at `lsn`; its flags, xlp_rem_len and size.
  std::optional<Stop> page_header(Lsn lsn, uint16_t& info, uint32_t& rem, size_t& size) {
    size_t avail = 0;
    const uint8_t* p = bytes_at(lsn, avail);
    const bool segment_start = lsn % out_.segment_size == 0;
    size = segment_start ? kLongPageHeader : kShortPageHeader;
    if (!p || avail < size) return input_end(lsn, "a page header");
    bool zeros = true;
    for (size_t i = 0; i < size; i++) zeros = zeros && p[i] == 0;
    if (zeros) return Stop{WalSegmentScan::End::Zeros, ""};
    info = le16(p + 2);
    rem = le32(p + 16);
    std::string why;
    if (le16(p) != out_.page_magic)
      why = "its magic differs from the segment's";
    else if (le64(p + 8) != lsn)
      why = "it names address " + hex_lsn(le64(p + 8)) + " (left over from a recycled segment?)";
    else if (info & ~kAllPageFlags)
      why = "unknown flags " + std::to_string(info);
    else if (bool(info & kLongHeader) != segment_start)
      why = segment_start ? "a segment's first page has no long header" : "a long header inside a segment";
    else if (segment_start &&
             (le64(p + 24) != out_.system_id || le32(p + 32) != out_.segment_size || le32(p + 36) != page_))
      why = "the next segment belongs to another cluster or has other sizes";
    if (why.empty()) return std::nullopt;
    // A page that is not this WAL's: valid WAL ends before it.
    return Stop{WalSegmentScan::End::Invalid, "page at " + hex_lsn(lsn) + ": " + why};
  }

  // Moves `pos` past `remaining` bytes of a record continued from before this segment.
  std::optional<Stop> skip_continuation(Lsn& pos, uint32_t remaining) {
    while (remaining > 0) {
      if (pos >= out_.start + out_.segment_size) return Stop{WalSegmentScan::End::SegmentEnd, ""};
      if (pos % page_ == 0) {
        if (auto s = continuation_page(pos, remaining)) return s;
      }
      const uint64_t n = std::min<uint64_t>(remaining, page_ - pos % page_);
      pos += n;
      remaining -= uint32_t(n);
    }
    return std::nullopt;
  }

  // The header of a page that must continue a record with `remaining` bytes still to come.
  std::optional<Stop> continuation_page(Lsn& pos, uint32_t remaining) {
    uint16_t info = 0;
    uint32_t rem = 0;
    size_t hdr = 0;
    if (auto s = page_header(pos, info, rem, hdr)) {
      if (s->end == WalSegmentScan::End::Zeros)  // the record was never completely written
        return Stop{WalSegmentScan::End::Truncated, "a record continues into the unwritten page at " + hex_lsn(pos)};
      return s;
    }
    if (!(info & kFirstIsContRecord) || rem != remaining)
      return Stop{WalSegmentScan::End::Invalid, "page at " + hex_lsn(pos) +
                                                    " does not continue the record before it (" + std::to_string(rem) +
                                                    " bytes, expected " + std::to_string(remaining) + ")"};
    pos += hdr;
    return std::nullopt;
  }

  // Copies the `tot` bytes of the record at `pos` into `rec`, across pages; `pos` ends after them.
  std::optional<Stop> gather(Lsn& pos, uint32_t tot, Bytes& rec) {
    rec.resize(0);
    const Lsn at = pos;
    while (rec.size() < tot) {
      const uint32_t remaining = tot - uint32_t(rec.size());
      if (pos % page_ == 0) {
        if (pos >= out_.start + 2 * uint64_t(out_.segment_size))
          return Stop{WalSegmentScan::End::NextSegment,
                      "record at " + hex_lsn(at) + " continues beyond the next segment"};
        if (auto s = continuation_page(pos, remaining)) return s;
      }
      size_t avail = 0;
      const uint8_t* p = bytes_at(pos, avail);
      if (!p) return input_end(pos, "the record at " + hex_lsn(at));
      const size_t n = std::min<size_t>(avail, remaining);
      rec.insert(rec.end(), p, p + n);
      pos += n;
      if (n < avail || rec.size() == tot) continue;
      if (pos % page_ != 0) return input_end(pos, "the record at " + hex_lsn(at));
    }
    return std::nullopt;
  }

  // The record's link to its predecessor and its CRC (body first, then the header before xl_crc).
  std::optional<Stop> check_record(const Bytes& rec, Lsn at, std::optional<Lsn> prev) const {
    if (prev && le64(rec.data() + 8) != *prev)
      return Stop{WalSegmentScan::End::Invalid, "record at " + hex_lsn(at) + " links to " +
                                                    hex_lsn(le64(rec.data() + 8)) + ", not to the record before it"};
    uint32_t crc = 0xFFFFFFFFu;
    crc = crc32c_update(crc, rec.data() + kRecordHeader, rec.size() - kRecordHeader);
    crc = crc32c_update(crc, rec.data(), kCrcOffset);
    if ((crc ^ 0xFFFFFFFFu) != le32(rec.data() + kCrcOffset))
      return Stop{WalSegmentScan::End::Invalid, "record at " + hex_lsn(at) + " fails its CRC"};
    return std::nullopt;
  }

  // The main data of a record: the headers after XLogRecord name every block's image and data
  // lengths, then the main data's; the payloads follow in that order, main data last.
  bool main_data(const Bytes& rec, size_t& offset, size_t& length) const {
    const size_t total = rec.size();
    size_t off = kRecordHeader;
    uint64_t payload = 0;  // bytes of block images and data and main data declared so far
    int last_block = -1;
    uint64_t main_len = 0;
    auto need = [&](size_t n) { return off + n <= total; };
    while (total - off > payload) {
      const uint8_t id = rec[off++];
      if (id == kBlockIdDataShort) {
        if (!need(1)) return false;
        main_len = rec[off++];
        payload += main_len;
        break;
      }
      if (id == kBlockIdDataLong) {
        if (!need(4)) return false;
        main_len = le32(rec.data() + off);
        off += 4;
        payload += main_len;
        break;
      }
      if (id == kBlockIdOrigin) {
        if (!need(2)) return false;
        off += 2;
        continue;
      }
      if (id == kBlockIdToplevelXid) {
        if (!need(4)) return false;
        off += 4;
        continue;
      }
      if (id > kMaxBlockId || int(id) <= last_block) return false;
      last_block = id;
      if (!need(3)) return false;
      const uint8_t flags = rec[off];
      const uint16_t data_len = le16(rec.data() + off + 1);
      off += 3;
      if (bool(flags & kBlockHasData) != (data_len != 0)) return false;
      payload += data_len;
      if (flags & kBlockHasImage) {
        if (!need(5)) return false;
        const uint16_t image_len = le16(rec.data() + off);
        const uint8_t image_info = rec[off + 4];
        off += 5;
        if ((image_info & kImageHasHole) && (image_info & compressed_mask_)) {
          if (!need(2)) return false;
          off += 2;  // XLogRecordBlockCompressHeader: the hole's length
        }
        payload += image_len;
      }
      if (!(flags & kBlockSameRel)) {
        if (!need(kRelLocator)) return false;
        off += kRelLocator;
      }
      if (!need(4)) return false;
      off += 4;  // the block number
    }
    if (total - off != payload) return false;
    offset = total - size_t(main_len);
    length = size_t(main_len);
    return true;
  }

  // A transaction's commit or abort: its time is the first field of its main data.
  std::optional<Stop> note_xact(const Bytes& rec, Lsn at, uint8_t info) {
    const uint8_t op = info & kXactOpMask;
    if (op != kXactCommit && op != kXactCommitPrepared && op != kXactAbort && op != kXactAbortPrepared)
      return std::nullopt;
    size_t off = 0, len = 0;
    if (!main_data(rec, off, len) || len < 8)
      return Stop{WalSegmentScan::End::Invalid,
                  "transaction record at " + hex_lsn(at) + " passes its CRC but cannot be decoded"};
    WalXactEnd x;
    x.lsn = at;
    x.pg_time_us = int64_t(le64(rec.data() + off));
    x.prepared = op == kXactCommitPrepared || op == kXactAbortPrepared;
    (op == kXactCommit || op == kXactCommitPrepared ? out_.newest_commit : out_.newest_abort) = x;
    return std::nullopt;
  }

  ByteView seg_, next_;
  WalSegmentScan& out_;
  uint32_t page_ = 8192;
  uint16_t first_info_ = 0;
  uint32_t first_rem_len_ = 0;
  uint8_t compressed_mask_ = kImageCompressedPg15;
};

}  // namespace

WalSegmentScan scan_wal_segment(ByteView segment, ByteView next) {
  WalSegmentScan out;
  SegmentReader(segment, next, out).run();
  return out;
}

std::string to_string(WalSegmentScan::End e) {
  switch (e) {
    case WalSegmentScan::End::Zeros:
      return "zeros";
    case WalSegmentScan::End::Switch:
      return "switch";
    case WalSegmentScan::End::SegmentEnd:
      return "segment end";
    case WalSegmentScan::End::NextSegment:
      return "continues in the next segment";
    case WalSegmentScan::End::Truncated:
      return "truncated";
    case WalSegmentScan::End::Invalid:
      return "invalid";
  }
  return "?";
}

}  // namespace arca
