#include "ops/copy.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_set>
#include <utility>

#include "ops/copy_objects.h"
#include "ops/copy_status.h"
#include "repo/blob_writer.h"
#include "repo/envelope.h"
#include "repo/key_files.h"
#include "repo/object_names.h"
#include "repo/replica.h"
#include "repo/tree.h"
#include "util/parallel_for.h"

namespace arca::ops {

namespace {

struct NeededBlob {
  Id id;
  BlobLocation loc;
};

// Blobs needed by the points of one run, each tree read once. Dry runs have no writer: what the
// replica holds is then its index.
class PointCopier {
 public:
  PointCopier(Repository& primary, Repository& replica, BlobWriter* writer, unsigned streams, JobContext& ctx,
              CopyResult& r)
      : primary_(primary), replica_(replica), writer_(writer), streams_(streams), ctx_(ctx), r_(r) {}

  // The blobs `point` needs that the replica does not hold usably. Every tree is walked, also one
  // the replica holds: an interrupted copy may have indexed a tree before the blobs below it.
  std::vector<NeededBlob> missing(const Snapshot& point) {
    std::vector<NeededBlob> out;
    auto need = [&](const Id& id) {
      if (!seen_.insert(id).second) return;
      point_ids_.push_back(id);
      if (known(id)) {
        r_.reused_blobs++;
        return;
      }
      auto loc = primary_.find_blob(id);
      if (!loc)
        throw Error(ErrorKind::Corrupt, "recovery point " + point.id.short_hex() + " needs blob " + id.short_hex() +
                                            ", which this repository does not hold: it was not copied; run 'arca "
                                            "check' here");
      out.push_back({id, *loc});
    };
    std::vector<Id> stack{point.tree};
    while (!stack.empty()) {
      ctx_.cancel.check("copy");
      Id t = stack.back();
      stack.pop_back();
      if (!trees_.insert(t).second) continue;
      point_trees_.push_back(t);
      need(t);
      Tree tree = decode_tree(primary_.read_blob(t), "tree " + t.short_hex());
      for (const auto& n : tree.nodes) {
        for (const auto& c : n.content) need(c);
        if (n.subtree) stack.push_back(*n.subtree);
      }
    }
    return out;
  }

  // The trees and blobs the last missing() met for the first time in this run are skipped by
  // later points only once that point is published: a point that failed must not make a later
  // one that shares its trees skip blobs that never reached the replica.
  void published() {
    point_trees_.clear();
    point_ids_.clear();
  }
  void failed() {
    for (const auto& t : point_trees_) trees_.erase(t);
    for (const auto& id : point_ids_) seen_.erase(id);
    published();
  }

  // Reads the blobs from this repository's packs (one ranged read per run of nearby blobs),
  // verifies each (authenticated, and its content matches its id) and hands it to the writer
  // sealed as it is.
  void transfer(std::vector<NeededBlob>& blobs) {
    std::map<Id, std::vector<const NeededBlob*>> by_pack;
    for (const auto& b : blobs) by_pack[b.loc.pack].push_back(&b);
    std::vector<std::vector<const NeededBlob*>> packs;
    for (auto& [_, v] : by_pack) {
      std::sort(v.begin(), v.end(), [](auto* a, auto* b) { return a->loc.offset < b->loc.offset; });
      packs.push_back(std::move(v));
    }
    parallel_for(
        packs.size(), streams_, [&](size_t i) { transfer_pack(packs[i]); }, &ctx_.cancel, "copy");
  }

  bool known(const Id& id) { return writer_ ? writer_->known(id) : replica_.index().usable(id); }

  // Blobs closer than this share one read: a gap costs less than another request.
  static constexpr uint64_t kMaxGap = 1 << 20;

  // The first blob of this point that could not be read intact from this repository ("" if none):
  // the point is then not copied (the replica must never hold a point it cannot restore).
  std::string take_failure() {
    std::lock_guard lk(mu_);
    return std::exchange(failure_, {});
  }

 private:
  void fail(const std::string& why) {
    std::lock_guard lk(mu_);
    if (failure_.empty()) failure_ = why;
  }

  void transfer_pack(const std::vector<const NeededBlob*>& blobs) {
    const std::string pack = pack_name(blobs.front()->loc.type, blobs.front()->loc.pack);
    for (size_t first = 0; first < blobs.size();) {
      ctx_.cancel.check("copy");
      size_t last = first;
      uint64_t start = blobs[first]->loc.offset, end = start + blobs[first]->loc.length;
      while (last + 1 < blobs.size() && blobs[last + 1]->loc.offset <= end + kMaxGap) {
        last++;
        end = std::max<uint64_t>(end, uint64_t(blobs[last]->loc.offset) + blobs[last]->loc.length);
      }
      Bytes range;
      try {
        range = primary_.backend().get_range(pack, start, end - start);
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::NotFound && e.kind() != ErrorKind::Corrupt) throw;
      }
      for (size_t i = first; i <= last; i++) {
        const NeededBlob& b = *blobs[i];
        if (range.empty()) {
          copy_from_another(b);
          continue;
        }
        ByteView sealed(range.data() + (b.loc.offset - start), b.loc.length);
        try {
          Bytes plain = unseal(primary_.keys(), sealed, "blob " + b.id.short_hex() + " in pack " + pack, {},
                               b.loc.raw_length);
          if (plain.size() != b.loc.raw_length || primary_.blob_id(plain) != b.id)
            throw Error(ErrorKind::Corrupt, "blob " + b.id.short_hex() + " in pack " + pack +
                                                ": content does not match its id");
          writer_->copy_sealed(b.loc.type, b.id, b.loc.raw_length, sealed);
          count(b);
        } catch (const Error& e) {
          if (e.kind() != ErrorKind::Corrupt) throw;
          copy_from_another(b);
        }
      }
      first = last + 1;
    }
  }

  // This copy is damaged or its pack gone: read_blob tries the other copies (and warns); the
  // intact one is sealed again for the replica. The point fails if none is intact.
  void copy_from_another(const NeededBlob& b) {
    Bytes plain;
    try {
      plain = primary_.read_blob(b.id, b.loc);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Corrupt && e.kind() != ErrorKind::NotFound) throw;
      fail(e.what());
      return;
    }
    writer_->add(b.loc.type, b.id, plain);
    std::lock_guard lk(mu_);
    r_.fallbacks++;
    count_locked(b);
  }

  void count(const NeededBlob& b) {
    std::lock_guard lk(mu_);
    count_locked(b);
  }
  void count_locked(const NeededBlob& b) {
    r_.blobs++;
    r_.blob_bytes += b.loc.raw_length;
    ctx_.progress.bytes_done += b.loc.raw_length;
  }

  Repository& primary_;
  Repository& replica_;
  BlobWriter* writer_;
  unsigned streams_;
  JobContext& ctx_;
  CopyResult& r_;
  std::mutex mu_;
  std::string failure_;
  std::unordered_set<Id, IdHash> trees_, seen_;
  std::vector<Id> point_trees_, point_ids_;  // met first by the point being copied
};

std::set<Id> listed_ids(const Repository& repo, const std::string& prefix,
                        std::optional<Id> (*parse)(std::string_view)) {
  std::set<Id> out;
  repo.backend().list(prefix, [&](const ObjectInfo& o) {
    if (auto id = parse(o.name)) out.insert(*id);
  });
  return out;
}

// The points to copy, in time order: the named ones, or every one the replica has not received.
// Only those are read (listings say which): an up-to-date replica costs listings, not reads.
// A point the replica holds without its copied/ record (a copy killed in between) gets it now.
// Points in `req.skip` are left out (not counted).
std::vector<Snapshot> points_to_copy(Repository& primary, Repository& replica, const CopyRequest& req,
                                     CopyResult& r) {
  auto there = listed_ids(replica, names::kSnapshotsPrefix, names::parse_snapshot);
  auto received = listed_ids(replica, names::kCopiedPrefix, names::parse_copied_record);
  std::vector<Snapshot> out;
  if (!req.snapshots.empty()) {
    std::set<Id> named;
    for (const auto& ref : req.snapshots) {
      Snapshot s = primary.find_snapshot(ref);
      if (!named.insert(s.id).second) continue;
      if (there.count(s.id))
        r.present++;
      else
        out.push_back(std::move(s));
    }
  } else {
    for (const Id& id : listed_ids(primary, names::kSnapshotsPrefix, names::parse_snapshot)) {
      if (there.count(id)) {
        r.present++;
        if (!received.count(id) && !req.dry_run) try {
            save_copied_record(replica, replica.read_snapshot(id));
          } catch (const Error&) {
            // Damaged or forgotten there meanwhile: the replica's own check and retention see to it.
          }
        continue;
      }
      if (req.skip.count(id)) continue;
      if (received.count(id)) {
        r.removed_there++;
        continue;
      }
      try {
        out.push_back(primary.read_snapshot(id));
      } catch (const Error& e) {
        if (e.kind() == ErrorKind::NotFound) continue;  // forgotten since the listing
        if (e.kind() != ErrorKind::Corrupt) throw;
        r.damaged.push_back(e.what());  // KeyVersionUnavailable too: it reads again once the key is back
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const Snapshot& a, const Snapshot& b) { return a.time < b.time; });
  return out;
}

// The point, as it is, after everything it needs: the key file that signed it (so the signature
// verifies there), the snapshot object, then the ledger entry.
void publish_copy(Repository& primary, Repository& replica, const Snapshot& point, CopyResult& r) {
  if (!point.key_id.empty()) {
    std::string key = names::key_file(point.key_id);
    if (!replica.backend().stat(key) && primary.backend().stat(key))
      r.key_files += replica.backend().put_if_absent(key, primary.backend().get(key));
  }
  std::string name = names::snapshot(point.id);
  Bytes sealed = primary.backend().get(name);
  unseal(primary.keys(), sealed, name, name);  // what is copied must authenticate
  replica.backend().put_if_absent(name, sealed);
  save_copied_record(replica, point);
}

}  // namespace

nlohmann::json CopyResult::to_json() const {
  nlohmann::json points = nlohmann::json::array();
  for (const auto& s : copied)
    points.push_back({{"id", s.id.hex()}, {"time", s.time}, {"source_kind", s.source_kind}, {"source", s.source_name}});
  return {{"replica", replica},
          {"dry_run", dry_run},
          {"copied", points},
          {"present", present},
          {"removed_on_replica", removed_there},
          {"blobs", blobs},
          {"blob_bytes", blob_bytes},
          {"reused_blobs", reused_blobs},
          {"stored_bytes", stored_bytes},
          {"wal_objects", wal_objects},
          {"wal_bytes", wal_bytes},
          {"drill_records", drill_records},
          {"keyring_entries", keyring_entries},
          {"key_files", key_files},
          {"fallbacks", fallbacks},
          {"damaged", damaged},
          {"damaged_points", [&] {
             nlohmann::json a = nlohmann::json::array();
             for (const auto& id : damaged_points) a.push_back(id.hex());
             return a;
           }()},
          {"seconds", seconds}};
}

CopyResult copy_to_replica(Repository& primary, Repository& replica, const CopyRequest& req, JobContext& ctx) {
  auto t0 = std::chrono::steady_clock::now();
  CopyResult r;
  r.replica = replica.backend().location();
  r.dry_run = req.dry_run;
  unsigned streams =
      req.streams ? req.streams
                  : std::max({2u, primary.backend().parallelism(), replica.backend().parallelism()});
  ctx.cancel.check("copy");
  // A long-lived handle (the server's replicator) checks that the replica is still there: an
  // unmounted or deleted replica must not be filled again from scratch as a bare directory.
  if (!replica.backend().stat(names::kConfig))
    throw Error(ErrorKind::NotFound, "no repository at " + r.replica +
                                         " any more (its config is gone: unmounted, moved or deleted?); "
                                         "nothing was copied");
  // Filling a replica that only the primary's passwords open would hide the problem until the
  // DR site needs it.
  if (!replica_has_own_key(primary.backend(), replica.backend()))
    throw Error(ErrorKind::Refused, "the replica " + r.replica +
                                        " has no key file of its own (its 'arca init --like' was interrupted), so "
                                        "only this repository's passwords open it: run the same 'arca init --like' "
                                        "again to finish it, then copy");
  if (!req.dry_run) r.keyring_entries = copy_keyring(primary, replica);
  std::vector<Snapshot> points = points_to_copy(primary, replica, req, r);
  ctx.progress.files_total += points.size();
  // The replica's points after this run, for the WAL it wants: read only if there is WAL to copy.
  std::optional<std::vector<Snapshot>> after;
  ReplicaPoints replica_points = [&]() -> const std::vector<Snapshot>& {
    if (!after) {
      after = req.replica_points ? req.replica_points->list(replica, &ctx.cancel) : replica.list_snapshots();
      after->insert(after->end(), points.begin(), points.end());
    }
    return *after;
  };
  // WAL and drill records first (seconds), then the points (perhaps hours), then what was
  // archived meanwhile: a long copy of a base backup does not hold the WAL back.
  copy_raw_families(primary, replica, replica_points, req, streams, ctx, r);
  if (points.empty()) {
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
  }
  {
    std::unique_ptr<BlobWriter> writer;
    if (!req.dry_run) writer = std::make_unique<BlobWriter>(replica);
    PointCopier copier(primary, replica, writer.get(), streams, ctx, r);
    auto damaged = [&](const Snapshot& p, const std::string& why) {
      copier.failed();
      r.damaged.push_back("recovery point " + p.id.short_hex() + " (" + p.time + "): " + why);
      r.damaged_points.push_back(p.id);
    };
    for (const auto& p : points) {
      std::vector<NeededBlob> blobs;
      try {
        blobs = copier.missing(p);
      } catch (const Error& e) {
        // Its trees are damaged or a blob is missing here: this point is not copied, the rest are.
        if (e.kind() != ErrorKind::Corrupt && e.kind() != ErrorKind::NotFound) throw;
        damaged(p, e.what());
        continue;
      }
      uint64_t bytes = 0;
      for (const auto& b : blobs) bytes += b.loc.raw_length;
      ctx.progress.bytes_total += bytes;
      ctx.progress.set_current(p.id.short_hex());
      if (req.dry_run) {
        r.blobs += blobs.size();
        r.blob_bytes += bytes;
      } else {
        copier.transfer(blobs);
        writer->checkpoint();
        if (std::string why = copier.take_failure(); !why.empty()) {
          damaged(p, why);
          continue;
        }
        writer->check_publishable();
        ctx.cancel.check("copy");
        try {
          publish_copy(primary, replica, p, r);
        } catch (const Error& e) {
          if (e.kind() != ErrorKind::NotFound) throw;
          copier.published();  // forgotten here meanwhile (retention): nothing to copy any more
          continue;
        }
        ctx.emit(EventLevel::Info, "copy.point_copied",
                 "recovery point " + p.id.short_hex() + " copied to " + r.replica,
                 {{"snapshot", p.id.hex()}, {"replica", r.replica}});
      }
      copier.published();
      ctx.progress.files_done++;
      r.copied.push_back(p);
    }
    if (writer) {
      writer->flush();
      r.stored_bytes = writer->stored_bytes();
      copy_raw_families(primary, replica, replica_points, req, streams, ctx, r);  // archived meanwhile
    }
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace arca::ops
