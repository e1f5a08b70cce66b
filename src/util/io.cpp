#include "util/io.h"

#include <unistd.h>

#include <cerrno>

#include "util/error.h"

namespace arca {

void write_all(int fd, ByteView data, const std::string& what) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("write", what, errno);
    }
    done += size_t(n);
  }
}

void pwrite_all(int fd, ByteView data, off_t offset, const std::string& what) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done, offset + off_t(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("write", what, errno);
    }
    done += size_t(n);
  }
}

size_t pread_full(int fd, std::span<uint8_t> data, off_t offset, const std::string& what) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pread(fd, data.data() + done, data.size() - done, offset + off_t(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("read", what, errno);
    }
    if (n == 0) break;
    done += size_t(n);
  }
  return done;
}

}  // namespace arca
