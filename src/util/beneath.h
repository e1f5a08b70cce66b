// Opening paths below a directory without ever following a symlink on the way, so that a
// concurrent swap of a directory for a symlink cannot redirect a restore outside its target.
#pragma once
#include <sys/types.h>

#include <string>

namespace arca {

// Opens `rel` ("a/b/c", components already validated) below `dirfd` with openat2's
// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS. On kernels without openat2 (before 5.6) it falls back
// to openat with O_NOFOLLOW, which protects the last component only. Returns -1 with errno set.
int open_beneath(int dirfd, const std::string& rel, int flags, mode_t mode = 0);

}  // namespace arca
