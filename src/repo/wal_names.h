// PostgreSQL WAL positions and file names: LSNs ("16/B374D848"), segment files
// ("000000010000001600000000": timeline, then the segment number split in two 8-digit halves),
// timeline history files ("00000002.history") and backup history files ("….00000028.backup").
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace arca {

using Lsn = uint64_t;

Lsn parse_lsn(const std::string& s);  // throws Error(Usage)
std::string format_lsn(Lsn lsn);

struct WalFileName {
  enum class Kind { Segment, Partial, History, BackupHistory } kind = Kind::Segment;
  uint32_t timeline = 0;
  uint64_t segno = 0;  // segments only
};

// Recognizes the WAL file names PostgreSQL archives; nullopt for anything else.
std::optional<WalFileName> parse_wal_file_name(const std::string& name, uint64_t segment_size);
std::string wal_segment_name(uint32_t timeline, uint64_t segno, uint64_t segment_size);
uint64_t wal_segno(Lsn lsn, uint64_t segment_size);
std::string timeline_history_name(uint32_t timeline);

}  // namespace arca
