// Replication plans (docs/replication.md, "In the server"): a replica's stream copies what its
// repository gains — recovery points, WAL, drill records — to the replica (ops::copy_to_replica,
// as `arca copy` does), measures the lag (ops::replica_status) and waits for the next write in
// this server or its interval, until cancelled. A copy that fails ends the job (FAILED): the
// scheduler starts it again after its backoff, and the failure shows in the metrics and status.
#include <chrono>
#include <map>
#include <thread>

#include "ops/copy.h"
#include "ops/copy_status.h"
#include "server/job_steps.h"
#include "storage/backend.h"
#include "storage/rate_limited_backend.h"

namespace arca::server::jobs {

namespace {

// Writes close together (a WAL stream stores a piece every second or so) are copied together.
constexpr double kMinGap_s = 2;
// The lag is measured after a copy that copied something, and at least this often.
constexpr double kMeasureEvery_s = 60;
// A point that could not be read intact is tried again after this long (or after a restart).
constexpr double kRetryDamaged_s = 3600;

void pause(double seconds, const CancelToken& cancel) {
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!cancel.cancelled() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

}  // namespace

void run_replication(JobScope& s, JobOutcome& out) {
  const RepositoryConfig& rc = s.repo.config();
  const ReplicaConfig* x = rc.replica(s.plan.replica);
  if (!x)
    throw Error(ErrorKind::Usage, "plan '" + s.plan.name + "' names replica '" + s.plan.replica +
                                      "', which repository '" + rc.name + "' does not have");
  const std::string& plan = s.plan.name;
  s.runtime.update_replication(plan, [&](ReplicationStatus& r) {
    if (r.location != x->location) r.status.reset();  // measured for another location
    r.repository = rc.name;
    r.replica = x->name;
    r.location = x->location;
  });
  ops::CopyRequest req;
  req.streams = static_cast<unsigned>(x->streams);
  uint64_t seen = 0;
  s.runtime.wait_written(rc.name, seen, 0, s.ctx.cancel);  // from now on
  uint64_t points = 0, wal_objects = 0, bytes = 0;
  std::map<Id, double> damaged_at;  // points not readable intact here, and when that was found
  double measured_at = 0;
  ops::SnapshotCache primary_points, replica_points;  // each point read once in the job's life
  req.replica_points = &replica_points;
  for (bool first = true;; first = false) {
    s.ctx.cancel.check("replication");
    double started = now_s();
    try {
      Repository& primary = s.repo.get();
      // What others wrote since: backups of other processes here (refresh), and there the
      // replica's own prune, or the replica gone (opened again: it says so clearly).
      if (!first) primary.refresh();
      std::unique_ptr<Backend> backend =
          open_backend(x->location, BackendOptions(x->options.begin(), x->options.end()));
      if (x->limit_upload_kib > 0)
        backend = std::make_unique<RateLimitedBackend>(std::move(backend), uint64_t(x->limit_upload_kib) * 1024,
                                                       &s.ctx.cancel);
      auto replica = Repository::open_replica(std::move(backend), primary);
      req.skip.clear();
      for (const auto& [id, at] : damaged_at)
        if (started - at < kRetryDamaged_s) req.skip.insert(id);
      // Measured before a copy too: a copy of a large point may take hours, and meanwhile the
      // lag must show that point missing.
      auto measure = [&] {
        ops::ReplicaStatus st =
            ops::replica_status(primary, *replica, &s.ctx.cancel, &primary_points, &replica_points);
        measured_at = now_s();
        s.runtime.update_replication(plan, [&](ReplicationStatus& r) { r.status = std::move(st); });
      };
      if (started - measured_at >= kMeasureEvery_s) measure();
      ops::CopyResult c = ops::copy_to_replica(primary, *replica, req, s.ctx);
      if (!c.copied.empty() || c.wal_objects || c.drill_records) measure();
      points += c.copied.size();
      wal_objects += c.wal_objects;
      bytes += c.blob_bytes + c.wal_bytes;
      std::string damaged;
      if (!c.damaged.empty())
        damaged = std::to_string(c.damaged.size()) + " damaged point(s) or object(s) of the repository were not " +
                  "copied: " + c.damaged.front();
      bool news = false;
      for (const auto& id : c.damaged_points) news = damaged_at.emplace(id, started).second || news;
      s.runtime.update_replication(plan, [&](ReplicationStatus& r) {
        r.last_attempt_at = started;
        r.last_success_at = now_s();
        r.last_error = damaged;
        r.copies++;
        r.points_copied += c.copied.size();
        r.wal_objects_copied += c.wal_objects;
        r.bytes_copied += c.blob_bytes + c.wal_bytes;
      });
      if (news || (!damaged.empty() && c.damaged_points.empty()))
        s.ctx.warn("replication.damaged", damaged, {{"replica", x->name}});
      if (!c.copied.empty())
        s.ctx.info("replication.copied",
                   "copied " + std::to_string(c.copied.size()) + " recovery point(s) to replica " + x->name,
                   {{"replica", x->name}, {"points", std::to_string(c.copied.size())}});
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Cancelled || s.ctx.cancel.cancelled()) break;
      s.runtime.update_replication(plan, [&](ReplicationStatus& r) {
        r.last_attempt_at = started;
        r.last_error = e.what();
        r.failures++;
      });
      throw;
    }
    pause(kMinGap_s - (now_s() - started), s.ctx.cancel);
    s.runtime.wait_written(rc.name, seen, static_cast<double>(x->interval_s), s.ctx.cancel);
    if (s.ctx.cancel.cancelled()) break;
  }
  out.result = {{"replica", x->location}, {"points", points}, {"wal_objects", wal_objects}, {"bytes", bytes}};
  out.bytes_added = bytes;
  throw Error(ErrorKind::Cancelled, "replication to " + x->name + " stopped after copying " + std::to_string(points) +
                                        " recovery point(s) and " + std::to_string(wal_objects) + " WAL object(s)");
}

}  // namespace arca::server::jobs
