// Whole-buffer POSIX I/O that retries short transfers and EINTR; errors throw arca::Error.
#pragma once
#include <sys/types.h>

#include <string>

#include "util/bytes.h"

namespace arca {

void write_all(int fd, ByteView data, const std::string& what);
void pwrite_all(int fd, ByteView data, off_t offset, const std::string& what);
// Reads up to data.size() bytes at `offset`; returns how many were read (short only at EOF).
size_t pread_full(int fd, std::span<uint8_t> data, off_t offset, const std::string& what);
// A whole (small) file; throws Error (NotFound when it is missing).
Bytes read_whole_file(const std::string& path);

}  // namespace arca
