// Prune marks (`prune/<id>`, docs/repository-format.md §13): the packs a prune found unneeded,
// with the time it found them. A pack is deleted by a later prune only once the grace period has
// passed and it is still unneeded; meanwhile new backups do not deduplicate against it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "util/bytes.h"

namespace arca {

class Repository;

struct PruneMark {
  Id id;                // the object name's id
  std::string created;  // RFC 3339
  int64_t created_unix = 0;
  // The marking run's grace period: a promise that the packs stay at least until
  // created_unix + grace_s (only `prune --grace 0` overrides it). Writers rely on it.
  int64_t grace_s = 0;
  std::vector<std::string> packs;  // pack object names (data/…, meta/…)
};

std::string prune_mark_name(const Id& id);
// Every mark; a damaged one is an error (a prune must not guess what it meant).
std::vector<PruneMark> load_prune_marks(const Repository& repo);
void save_prune_mark(Repository& repo, PruneMark& mark);  // assigns id if zero

}  // namespace arca
