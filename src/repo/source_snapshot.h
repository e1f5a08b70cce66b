// Choosing a recovery point of one source kind (redis, kafka, …): by id, or the newest one,
// optionally of one source name.
#pragma once
#include <optional>
#include <string>

#include "repo/repository.h"

namespace arca {

std::optional<Snapshot> latest_source_snapshot(Repository& repo, const std::string& kind, const std::string& source);
// By id or 'latest'; throws Error (NotFound: none; Usage: another kind — naming `maker`, the
// command that makes this kind).
Snapshot find_source_snapshot(Repository& repo, const std::string& ref, const std::string& kind,
                              const std::string& source, const std::string& maker);

}  // namespace arca
