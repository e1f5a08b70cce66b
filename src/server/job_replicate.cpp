// Replication plans (docs/replication.md, "In the server"): a replica's stream copies what its
// repository gains — recovery points, WAL, drill records — to the replica (ops::copy_to_replica,
// as `arca copy` does), measures the lag (ops::replica_status) and waits for the next write in
// this server or its interval, until cancelled. A copy that fails ends the job (FAILED): the
// scheduler starts it again after its backoff, and the failure shows in the metrics and status.
#include "ops/copy.h"
#include "ops/copy_status.h"
#include "server/job_steps.h"
#include "storage/backend.h"

namespace arca::server::jobs {

void run_replication(JobScope& s, JobOutcome& out) {
  const RepositoryConfig& rc = s.repo.config();
  const ReplicaConfig* x = rc.replica(s.plan.replica);
  if (!x)
    throw Error(ErrorKind::Usage, "plan '" + s.plan.name + "' names replica '" + s.plan.replica +
                                      "', which repository '" + rc.name + "' does not have");
  const std::string& plan = s.plan.name;
  s.runtime.update_replication(plan, [&](ReplicationStatus& r) {
    r.repository = rc.name;
    r.replica = x->name;
    r.location = x->location;
  });
  Repository& primary = s.repo.get();
  std::unique_ptr<Repository> replica;
  ops::CopyRequest req;
  req.streams = static_cast<unsigned>(x->streams);
  uint64_t seen = 0;
  s.runtime.wait_written(rc.name, seen, 0, s.ctx.cancel);  // from now on
  ops::CopyResult total;
  for (;;) {
    s.ctx.cancel.check("replication");
    double started = now_s();
    try {
      // What others wrote since: backups of other processes here (refresh), and there the
      // replica's own prune, or the replica gone (opened again: it says so clearly).
      if (replica) primary.refresh();
      replica = Repository::open_replica(
          open_backend(x->location, BackendOptions(x->options.begin(), x->options.end())), primary);
      ops::CopyResult c = ops::copy_to_replica(primary, *replica, req, s.ctx);
      ops::ReplicaStatus st = ops::replica_status(primary, *replica);
      total.copied.insert(total.copied.end(), c.copied.begin(), c.copied.end());
      total.blob_bytes += c.blob_bytes;
      total.wal_objects += c.wal_objects;
      total.wal_bytes += c.wal_bytes;
      total.drill_records += c.drill_records;
      std::string damaged;
      if (!c.damaged.empty())
        damaged = std::to_string(c.damaged.size()) + " damaged object(s) of the repository were not copied: " +
                  c.damaged.front();
      s.runtime.update_replication(plan, [&](ReplicationStatus& r) {
        r.last_attempt_at = started;
        r.last_success_at = now_s();
        r.last_error = damaged;
        r.copies++;
        r.points_copied += c.copied.size();
        r.wal_objects_copied += c.wal_objects;
        r.bytes_copied += c.blob_bytes + c.wal_bytes;
        r.status = std::move(st);
      });
      if (!damaged.empty()) s.ctx.warn("replication.damaged", damaged, {{"replica", x->name}});
      if (!c.copied.empty() || c.wal_objects || c.drill_records)
        s.ctx.info("replication.copied",
                   "copied " + std::to_string(c.copied.size()) + " recovery point(s), " +
                       std::to_string(c.wal_objects) + " WAL object(s) and " + std::to_string(c.drill_records) +
                       " drill record(s) to replica " + x->name,
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
    s.runtime.wait_written(rc.name, seen, static_cast<double>(x->interval_s), s.ctx.cancel);
    if (s.ctx.cancel.cancelled()) break;
  }
  total.replica = x->location;
  out.result = total.to_json();
  out.bytes_added = total.blob_bytes + total.wal_bytes;
  throw Error(ErrorKind::Cancelled, "replication to " + x->name + " stopped after copying " +
                                        std::to_string(total.copied.size()) + " recovery point(s) and " +
                                        std::to_string(total.wal_objects) + " WAL object(s)");
}

}  // namespace arca::server::jobs
