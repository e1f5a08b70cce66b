// Batched archiving for archive_command. PostgreSQL's archiver runs archive_command for one WAL
// file at a time, and each `arca pg wal-push` pays for opening the repository and one upload
// round trip. When several segments are waiting (their archive_status/<name>.ready files exist),
// the push of one also pushes up to N of the others in parallel and leaves a marker for each in
// a spool directory (pg_wal/arca-pushed/…); when the archiver then asks for one of them, the
// marker is consumed and the command returns at once. A marker is written only after its
// segment is durable in the repository, and WAL files waiting to be archived never change.
#pragma once
#include <string>
#include <vector>

#include "sources/postgres/wal_archive.h"

namespace arca {

// pg_wal/arca-pushed/<digest of the repository location>: markers never carry over to
// another repository when archive_command is changed to point elsewhere.
std::string default_push_spool(const std::string& wal_dir, const std::string& repository);
// True (and the marker removed) if `file` was already pushed by an earlier batch.
bool take_pushed_marker(const std::string& spool, const std::string& file);
// Pushes up to `count` other segments that PostgreSQL marked ready in `wal_dir`, oldest first,
// `threads` at a time, and marks each; returns how many were pushed. Failures are left for
// PostgreSQL to retry through archive_command and reported in `warnings`.
size_t push_ready_segments(WalArchive& archive, const std::string& wal_dir, const std::string& spool,
                           const std::string& except, unsigned count, unsigned threads,
                           std::vector<std::string>& warnings);

}  // namespace arca
