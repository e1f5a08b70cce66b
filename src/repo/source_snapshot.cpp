#include "repo/source_snapshot.h"

#include "util/error.h"

namespace arca {

std::optional<Snapshot> latest_source_snapshot(Repository& repo, const std::string& kind, const std::string& source) {
  // Never a future-dated point (see docs/security.md): a planted one would otherwise be restored,
  // or be what the next backup continues from.
  return repo.latest_snapshot(
      [&](const Snapshot& s) { return s.source_kind == kind && (source.empty() || s.source_name == source); });
}

Snapshot find_source_snapshot(Repository& repo, const std::string& ref, const std::string& kind,
                              const std::string& source, const std::string& maker) {
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
