// The PostgreSQL WAL archive inside a repository. Each archived file (segment, timeline
// history, backup history, or a piece of a segment still being written) is one sealed,
// compressed object named
//     wal/<system identifier, 16 hex>/<timeline, 8 hex>/<file name>
// so clusters sharing a repository never mix, and listing one prefix shows one timeline.
// WAL is not chunked or deduplicated: segments are unique and an object store handles 16 MiB
// objects well; one GET serves PostgreSQL's restore_command.
//
// Names are visible to whoever can list the storage (they reveal WAL positions, which
// snapshot times and sizes reveal anyway); contents are encrypted and each object is bound to its
// name, so swapping two objects fails authentication.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "repo/repository.h"
#include "repo/wal_names.h"

namespace arca {

struct WalObject {
  std::string file;  // PostgreSQL's name, e.g. 000000010000000000000003 or 00000002.history
  uint32_t timeline = 0;
  uint64_t stored_size = 0;
  bool piece = false;   // "pieces/<segment>/<offset>": part of a segment from wal-stream
  std::string segment;  // for pieces: the segment's name
};

// The WAL segment header's facts (XLogLongPageHeaderData at the start of every segment).
struct WalSegmentHeader {
  uint64_t system_id = 0;
  uint32_t timeline = 0;
  uint32_t segment_size = 0;
  Lsn page_address = 0;
};
std::optional<WalSegmentHeader> read_wal_segment_header(ByteView segment);
// The system identifier in DATADIR/global/pg_control; throws Error(NotFound) if unreadable.
uint64_t read_system_id(const std::string& datadir);

class WalArchive {
 public:
  WalArchive(Repository& repo, uint64_t system_id);

  enum class PushResult { Stored, AlreadyArchived };
  // Archives one file. The same content again is accepted; different content under a name
  // already archived throws Error (the archive is never overwritten).
  PushResult push(const std::string& file, ByteView content);
  // The file's content, or nullopt if the archive does not have it. `pieces`: a segment that is
  // only stored in pieces (still being streamed) is assembled and zero-padded.
  std::optional<Bytes> fetch(const std::string& file, bool pieces = true) const;
  // Pieces of a segment still being written, stored by `arca pg wal-stream` every few seconds
  // as "pieces/<segment>/<offset, 8 hex>" until the whole segment is stored. fetch() of a
  // segment that only has pieces returns the contiguous start, zero-padded to the segment size
  // (what PostgreSQL expects of a segment it replays to its end).
  void push_piece(const std::string& segment, uint32_t offset, ByteView content);
  std::vector<std::pair<uint32_t, std::string>> pieces(const std::string& segment) const;  // (offset, object name)
  void remove_pieces(const std::string& segment);
  // Every archived file, sorted by timeline then name.
  std::vector<WalObject> list() const;
  std::string object_name(const std::string& file) const;  // throws Error(Usage) for non-WAL names

 private:
  std::string pieces_prefix(const std::string& segment) const;
  Repository& repo_;
  uint64_t system_id_;
  std::string prefix_;  // wal/<system id>/
};

}  // namespace arca
