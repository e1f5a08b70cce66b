#include "storage/backend.h"
#include "storage/local_backend.h"
#include "util/error.h"

namespace arca {

std::unique_ptr<Backend> open_backend(const std::string& location) {
  if (location.empty()) throw Error(ErrorKind::Usage, "no repository given: use --repo or ARCA_REPOSITORY");
  if (location.find("://") != std::string::npos || location.rfind("s3:", 0) == 0)
    throw Error(ErrorKind::Usage, "repository location '" + location + "': only local paths are supported so far");
  return std::make_unique<LocalBackend>(location);
}

}  // namespace arca
