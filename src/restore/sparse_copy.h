// Copying a file's content to a new file cheaply: a clone (shared blocks) where the filesystem
// can, else only its data regions, so that the copy's holes stay holes.
#pragma once
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace arca {

// Copies [from, to) of src to the same offsets of dst with pread/pwrite. Returns 0 or an errno.
inline int copy_range_rw(int src, int dst, off_t from, off_t to) {
  std::vector<char> buf(1 << 20);
  while (from < to) {
    ssize_t n = pread(src, buf.data(), size_t(std::min<off_t>(to - from, off_t(buf.size()))), from);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return 0;  // the source shrank meanwhile
    for (ssize_t done = 0; done < n;) {
      ssize_t w = pwrite(dst, buf.data() + done, size_t(n - done), from + done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return errno;
      done += w;
    }
    from += n;
  }
  return 0;
}

// Makes the empty file dst a copy of src (size included). Returns 0 or an errno.
inline int copy_file_sparse(int src, int dst) {
  if (ioctl(dst, FICLONE, src) == 0) return 0;
  struct stat st;
  if (fstat(src, &st) != 0) return errno;
  const off_t size = st.st_size;
  bool kernel_copy = true;
  for (off_t pos = 0; pos < size;) {
    off_t data = lseek(src, pos, SEEK_DATA);
    if (data < 0 && errno == ENXIO) break;  // only a hole is left
    if (data < 0) data = pos;               // no SEEK_DATA here: copy everything
    off_t hole = lseek(src, data, SEEK_HOLE);
    if (hole < 0 || hole > size) hole = size;
    off_t in = data, out = data;
    while (in < hole) {
      ssize_t n = kernel_copy ? copy_file_range(src, &in, dst, &out, size_t(hole - in), 0) : -1;
      if (n > 0) continue;
      if (n == 0) break;
      if (kernel_copy && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
        kernel_copy = false;
      } else if (kernel_copy && errno == EINTR) {
        continue;
      } else if (kernel_copy) {
        return errno;
      }
      if (int err = copy_range_rw(src, dst, in, hole)) return err;
      break;
    }
    pos = hole;
  }
  if (ftruncate(dst, size) != 0) return errno;
  return 0;
}

}  // namespace arca
