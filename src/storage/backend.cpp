#include "storage/backend.h"

#include "util/error.h"

namespace arca {

Bytes Backend::get_range(const std::string& name, uint64_t offset, uint64_t length) const {
  Bytes out = get_range_upto(name, offset, length);
  if (out.size() != length)
    throw Error(ErrorKind::Corrupt, "object " + name + " is truncated (wanted bytes " + std::to_string(offset) + "+" +
                                        std::to_string(length) + ")");
  return out;
}

void Backend::lock_object(const std::string& name, const StoreLock&) {
  throw Error(ErrorKind::Usage,
              "cannot lock " + name + ": the store at " + location() + " has no per-object locks (S3 Object Lock)");
}

}  // namespace arca
