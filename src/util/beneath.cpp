#include "util/beneath.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace arca {

int open_beneath(int dirfd, const std::string& rel, int flags, mode_t mode) {
  static std::atomic<bool> have_openat2{true};
  if (have_openat2) {
    open_how how{};
    how.flags = uint64_t(flags | O_CLOEXEC);
    how.mode = (flags & O_CREAT) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
    long fd = syscall(SYS_openat2, dirfd, rel.c_str(), &how, sizeof how);
    if (fd >= 0 || errno != ENOSYS) return int(fd);
    have_openat2 = false;
  }
  return openat(dirfd, rel.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode);
}

}  // namespace arca
