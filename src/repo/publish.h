// The one step that turns a writing session into a recovery point, for every source: the point's
// identity (host, user, program version, time) is filled the same way everywhere, and the point
// is saved (signed when the key file has a signing key, see Repository::save_snapshot) only after
// the session's safety checks pass (BlobWriter::check_publishable: its registration still exists,
// no pack it reused was deleted, no pack it needs is condemned by a prune).
#pragma once
#include <string>

#include "repo/blob_writer.h"
#include "repo/repository.h"
#include "repo/snapshot.h"
#include "util/job_context.h"

namespace arca {

// Who made a recovery point, and when.
struct PointIdentity {
  std::string host;  // the --host given; empty: this machine's name
  std::string time;  // RFC 3339, when reading began; empty: now
  // The host recorded: `host` if given, else this machine's name.
  std::string host_name() const;
};

// Fills host, user, program version and time (when empty in `who`: now). For dry runs, which
// describe a point without publishing it.
void stamp_point(Snapshot& snap, const PointIdentity& who);

// stamp_point, then publishes: throws Error(Cancelled) if `cancel` is set (a cancelled job never
// publishes), throws what check_publishable() throws, else saves the point (giving it an id and
// the key record). Call after everything the point references is durable (writer.flush() or
// checkpoint()).
void publish_point(Repository& repo, BlobWriter& writer, Snapshot& snap, const PointIdentity& who,
                   const CancelToken* cancel = nullptr);

}  // namespace arca
