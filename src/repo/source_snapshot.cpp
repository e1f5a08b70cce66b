#include "repo/source_snapshot.h"

#include "util/error.h"

namespace arca {

std::optional<Snapshot> latest_source_snapshot(Repository& repo, const std::string& kind, const std::string& source) {
  std::optional<Snapshot> best;
  for (const auto& s : repo.list_snapshots())  // sorted by time: the last match is the newest
    if (s.source_kind == kind && (source.empty() || s.source_name == source)) best = s;
  return best;
}

Snapshot find_source_snapshot(Repository& repo, const std::string& ref, const std::string& kind, const std::string& source,
                              const std::string& maker) {
  Snapshot snap;
  if (ref == "latest") {
    auto s = latest_source_snapshot(repo, kind, source);
    if (!s)
      throw Error(ErrorKind::NotFound, "the repository holds no " + kind + " recovery point" +
                                           (source.empty() ? std::string() : " of source '" + source + "'"));
    snap = *s;
  } else {
    snap = repo.find_snapshot(ref);
  }
  if (snap.source_kind != kind)
    throw Error(ErrorKind::Usage, "snapshot " + snap.id.short_hex() + " is not a " + kind + " recovery point (it is " +
                                      snap.source_kind + "); '" + maker + "' makes those");
  return snap;
}

}  // namespace arca
