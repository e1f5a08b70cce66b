#include "util/io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "util/error.h"
#include "util/fd.h"

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

Bytes read_whole_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_errno("open", path, errno);
  Bytes out;
  uint8_t buf[1 << 16];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("read", path, errno);
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

}  // namespace arca
