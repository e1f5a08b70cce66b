#include "util/beneath.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace arca {

// Tells a real EPERM from openat2 (e.g. on a file) from a filter refusing the syscall itself:
// opening "." below the directory is always permitted when openat2 works at all.
static bool fd_probe_allowed(int dirfd) {
  open_how how{};
  how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH;
  long fd = syscall(SYS_openat2, dirfd, ".", &how, sizeof how);
  if (fd >= 0) close(int(fd));
  int err = errno;
  errno = EPERM;
  return fd >= 0 || err != EPERM;
}

int open_beneath(int dirfd, const std::string& rel, int flags, mode_t mode) {
  static std::atomic<bool> have_openat2{true};
  if (have_openat2) {
    open_how how{};
    how.flags = uint64_t(flags | O_CLOEXEC);
    how.mode = (flags & O_CREAT) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
    long fd = syscall(SYS_openat2, dirfd, rel.c_str(), &how, sizeof how);
    // ENOSYS: kernel before 5.6; EPERM: a seccomp filter that does not know the syscall.
    if (fd >= 0 || (errno != ENOSYS && errno != EPERM)) return int(fd);
    if (errno == EPERM && fd_probe_allowed(dirfd)) return -1;
    have_openat2 = false;
  }
  return openat(dirfd, rel.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode);
}

}  // namespace arca
