// Read-ahead for restore_command. PostgreSQL runs restore_command once per WAL segment, and each
// run of `arca pg wal-fetch` pays for opening the repository (key derivation, config, keyring).
// So a fetch that has to open the repository also fetches the next few segments in parallel
// into a spool directory; the following calls find their segment there and only rename it.
// Only whole segments are spooled (a segment still being streamed may grow). The spool holds
// authenticated, decrypted WAL, like pg_wal itself; `arca pg restore --start` removes it when
// recovery has ended.
#pragma once
#include <string>

#include "sources/postgres/wal_archive.h"

namespace arca {

// The default spool: pg_wal/arca-prefetch under the data directory.
std::string default_wal_spool(const std::string& datadir);
// Moves a spooled `file` to `dest`; false if it is not spooled.
bool take_spooled_wal(const std::string& spool, const std::string& file, const std::string& dest);
// Fetches up to `count` segments following `segment` (whose content gives the segment size)
// into the spool, `threads` at a time; stops at the first one the archive lacks.
void prefetch_wal(const WalArchive& archive, const std::string& spool, const std::string& segment, ByteView content,
                  unsigned count, unsigned threads);
// Writes `content` to `dest` through a temporary file and a rename.
void write_wal_file(const std::string& dest, ByteView content);

}  // namespace arca
