#include "repo/wal_names.h"

#include <cctype>
#include <cstdio>

#include "util/error.h"

namespace arca {

static bool all_hex(const std::string& s, size_t from, size_t n) {
  if (s.size() < from + n) return false;
  for (size_t i = from; i < from + n; i++)
    if (!std::isxdigit(static_cast<unsigned char>(s[i])) || std::islower(static_cast<unsigned char>(s[i])))
      return false;
  return true;
}

Lsn parse_lsn(const std::string& s) {
  unsigned hi = 0, lo = 0;
  char extra;
  if (std::sscanf(s.c_str(), "%X/%X%c", &hi, &lo, &extra) != 2)
    throw Error(ErrorKind::Usage, "'" + s + "' is not a WAL position (expected like 16/B374D848)");
  return (uint64_t(hi) << 32) | lo;
}

std::string format_lsn(Lsn lsn) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%X/%X", unsigned(lsn >> 32), unsigned(lsn & 0xffffffffu));
  return buf;
}

uint64_t wal_segno(Lsn lsn, uint64_t segment_size) { return lsn / segment_size; }

std::string wal_segment_name(uint32_t timeline, uint64_t segno, uint64_t segment_size) {
  uint64_t per_xlogid = 0x100000000ull / segment_size;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%08X%08X%08X", timeline, unsigned(segno / per_xlogid), unsigned(segno % per_xlogid));
  return buf;
}

std::string timeline_history_name(uint32_t timeline) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%08X.history", timeline);
  return buf;
}

std::optional<WalFileName> parse_wal_file_name(const std::string& name, uint64_t segment_size) {
  WalFileName w;
  if (name.size() == 16 && all_hex(name, 0, 8) && name.compare(8, 8, ".history") == 0) {
    w.kind = WalFileName::Kind::History;
    w.timeline = uint32_t(std::stoul(name.substr(0, 8), nullptr, 16));
    return w;
  }
  if (!all_hex(name, 0, 24)) return std::nullopt;
  w.timeline = uint32_t(std::stoul(name.substr(0, 8), nullptr, 16));
  w.segno = std::stoull(name.substr(8, 8), nullptr, 16) * (0x100000000ull / segment_size) +
            std::stoull(name.substr(16, 8), nullptr, 16);
  if (name.size() == 24) return w;
  if (name.size() == 32 && name.compare(24, 8, ".partial") == 0) {
    w.kind = WalFileName::Kind::Partial;
    return w;
  }
  if (name.size() == 40 && all_hex(name, 25, 8) && name[24] == '.' && name.compare(33, 7, ".backup") == 0) {
    w.kind = WalFileName::Kind::BackupHistory;
    return w;
  }
  return std::nullopt;
}

}  // namespace arca
