// `arca repair snapshots`: finds snapshot objects that cannot be read (damaged, truncated) and
// removes them. One sealed with a data key version whose keyring entry is missing or damaged is
// not damaged (restoring the entry makes it readable): it is removed only when the caller says
// that version is truly lost. A damaged snapshot stops prune (its tree could make needed
// data look unused), and forget cannot plan with it, so this is the way out.
#pragma once
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "repo/repository.h"

namespace arca {

struct DamagedSnapshot {
  std::string name;                         // snapshots/<id>
  std::string reason;                       // why it cannot be read
  std::optional<uint32_t> unavailable_key;  // set when only its key version is missing/damaged
  std::string locked_by;  // an active lock naming its id ("compliance lock 1a2b3c4d until …"): never removed
};

// Every snapshot object that cannot be read.
std::vector<DamagedSnapshot> find_damaged_snapshots(const Repository& repo);
// Removes them, except locked ones and those sealed with an unavailable key version not in `lost_key_versions`;
// returns how many it removed. Refuses (Error Refused) with an append-only key before removing anything.
size_t remove_damaged_snapshots(Repository& repo, const std::vector<DamagedSnapshot>& damaged,
                                const std::set<uint32_t>& lost_key_versions = {});
// Whether remove_damaged_snapshots removes `d`.
bool removable(const DamagedSnapshot& d, const std::set<uint32_t>& lost_key_versions);

}  // namespace arca
