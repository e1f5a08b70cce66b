#include "storage/backend.h"
#include "storage/local_backend.h"
#include "storage/s3/s3_backend.h"
#include "util/error.h"

namespace arca {

std::unique_ptr<Backend> open_backend(const std::string& location, const BackendOptions& options) {
  if (location.empty()) throw Error(ErrorKind::Usage, "no repository given: use --repo or ARCA_REPOSITORY");
  for (const auto& [k, v] : options)
    if (k.rfind("s3.", 0) != 0) throw Error(ErrorKind::Usage, "unknown option " + k + " (see arca help-options)");
  if (is_s3_location(location)) return std::make_unique<S3Backend>(parse_s3_options(location, options));
  if (location.find("://") != std::string::npos)
    throw Error(ErrorKind::Usage, "repository location '" + location +
                                      "': not understood; use a local path or s3:https://host[:port]/bucket[/prefix]");
  for (const auto& [k, v] : options)
    if (k.rfind("s3.", 0) == 0) throw Error(ErrorKind::Usage, "option " + k + " applies only to s3: repositories");
  return std::make_unique<LocalBackend>(location);
}

}  // namespace arca
