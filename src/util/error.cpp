#include "util/error.h"

#include <cerrno>
#include <cstring>

namespace arca {

void throw_errno(const std::string& op, const std::string& what, int err) {
  ErrorKind kind = ErrorKind::Io;
  if (err == ENOSPC || err == EDQUOT) kind = ErrorKind::NoSpace;
  if (err == ENOENT) kind = ErrorKind::NotFound;
  std::string msg = op + " " + what + ": " + std::strerror(err);
  if (kind == ErrorKind::NoSpace) msg += " (free space on that filesystem and run the command again)";
  throw Error(kind, msg);
}

}  // namespace arca
