// `arca repair snapshots`: finds snapshot objects that cannot be read (damaged, truncated, sealed
// with a lost key) and removes them. A damaged snapshot stops prune (its tree could make needed
// data look unused), and forget cannot plan with it, so this is the way out.
#pragma once
#include <string>
#include <vector>

#include "repo/repository.h"

namespace arca {

struct DamagedSnapshot {
  std::string name;    // snapshots/<id>
  std::string reason;  // why it cannot be read
};

// Every snapshot object that cannot be read.
std::vector<DamagedSnapshot> find_damaged_snapshots(const Repository& repo);
// Removes them; refuses (Error Refused) with an append-only key before removing anything.
void remove_damaged_snapshots(Repository& repo, const std::vector<DamagedSnapshot>& damaged);

}  // namespace arca
