// A snapshot object's plaintext. Every reader (Repository::load_snapshot, check, repair) turns a
// JSON exception into damage, so those are expected here too.
#include "fuzz.h"
#include "repo/snapshot.h"

ARCA_FUZZ_TARGET(data, size) {
  try {
    arca::Snapshot s = arca::Snapshot::from_json(nlohmann::json::parse(data, data + size), arca::Id{});
    (void)s.to_json().dump();
  } catch (const nlohmann::json::exception&) {}
}
