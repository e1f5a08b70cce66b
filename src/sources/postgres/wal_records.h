// Reading the records inside a PostgreSQL WAL segment (PostgreSQL 12-16), to learn from the
// archive itself how recent the data it can restore is: the newest transaction commit, and where
// valid WAL ends. The format is PostgreSQL's (access/xlog_internal.h, access/xlogrecord.h,
// access/xact.h); this is an independent reader of it:
//
//   - a segment is pages (xlp_xlog_blcksz, 8 kB); each page starts with a header (a long one on
//     the segment's first page: system id, segment and page size) naming its own LSN
//     (xlp_pageaddr), so a page left over from a recycled segment is recognised;
//   - records follow each other in a byte stream that skips the page headers; each starts at an
//     8-byte aligned LSN, may span pages (the next page says XLP_FIRST_IS_CONTRECORD and how many
//     bytes remain) and segments, and carries a CRC-32C over its body and header;
//   - valid WAL ends at the first record that is zero (the unwritten tail), truncated, fails its
//     CRC or does not link to its predecessor (xl_prev), or after a WAL switch record.
//
// The input is untrusted (a damaged segment, a crafted object): every length is bounds-checked,
// the reader never reads outside its input, always moves forward and never throws.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "repo/wal_names.h"
#include "util/bytes.h"

namespace arca {

// A transaction end (RM_XACT_ID commit or abort, prepared or not).
struct WalXactEnd {
  Lsn lsn = 0;
  int64_t pg_time_us = 0;  // xact_time: microseconds since 2000-01-01 00:00 UTC
  bool prepared = false;   // COMMIT_PREPARED / ABORT_PREPARED
  double unix_time() const { return double(pg_time_us) / 1e6 + 946684800.0; }
};

struct WalSegmentScan {
  enum class End {
    Zeros,        // the unwritten (zero) tail: valid WAL ends here
    Switch,       // an XLOG_SWITCH record: the rest of the segment is unused
    SegmentEnd,   // the last record ended exactly at the segment's end
    NextSegment,  // the last record continues into the next segment, which was not given
    Truncated,    // the input ends inside a record or page header (a partial segment)
    Invalid,      // a bad page header, CRC, length or link: damaged, or not PostgreSQL 12-16 WAL
  };
  End end = End::Invalid;
  std::string detail;  // why the scan stopped, with the LSN (for End::Invalid and Truncated)
  // From the segment's long page header (all 0 when it is not a WAL segment).
  uint64_t system_id = 0;
  uint32_t timeline = 0, segment_size = 0, page_size = 0;
  uint16_t page_magic = 0;                       // XLOG_PAGE_MAGIC: the PostgreSQL version that wrote it
  Lsn start = 0;                                 // LSN of the segment's first byte
  uint64_t records = 0;                          // valid records that start in this segment
  std::optional<Lsn> first_record, last_record;  // LSNs of the first and last of them
  Lsn end_lsn = 0;                               // the end of the last valid record (0: none)
  std::optional<WalXactEnd> newest_commit, newest_abort;
};

// Scans one segment (`segment`, from its first byte; a partial or zero-padded one is fine).
// `next`, when given, is the following segment of the same timeline: a record that starts in
// `segment` and ends in `next` is then read too (records starting in `next` are not).
WalSegmentScan scan_wal_segment(ByteView segment, ByteView next = {});

std::string to_string(WalSegmentScan::End e);  // "zeros", "switch", ...

}  // namespace arca
