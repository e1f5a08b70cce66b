#include "repo/publish.h"

#include "repo/config.h"
#include "util/clock.h"
#include "util/host.h"

namespace arca {

std::string PointIdentity::host_name() const { return host.empty() ? local_hostname() : host; }

void stamp_point(Snapshot& snap, const PointIdentity& who) {
  snap.time = who.time.empty() ? now_rfc3339() : who.time;
  snap.host = who.host_name();
  snap.user = local_username();
  snap.program_version = ARCA_VERSION;
}

void publish_point(Repository& repo, BlobWriter& writer, Snapshot& snap, const PointIdentity& who,
                   const CancelToken* cancel) {
  stamp_point(snap, who);
  if (cancel) cancel->check("backup");
  writer.check_publishable();
  repo.save_snapshot(snap);
}

}  // namespace arca
