#include <iostream>

#include "cli/cli_job.h"
#include "cli/commands.h"
#include "ops/copy.h"
#include "ops/copy_status.h"
#include "ops/error_table.h"
#include "storage/rate_limited_backend.h"

namespace arca {

namespace {

std::string age(const std::optional<double>& s) { return s ? human_duration(*s) : "-"; }

void register_copy_status(CLI::App& copy, GlobalOptions& g) {
  auto* cmd = copy.add_subcommand("status",
                                  "How far a replica is behind, per component: replication lag, the DR site's "
                                  "recovery point, what is pending");
  add_global_options(*cmd, g);
  auto to = std::make_shared<GlobalOptions>();
  cmd->add_option("--to", to->repo, "The replica")->required();
  cmd->add_option("--to-option", to->options, "Backend option (KEY=VALUE) of the replica (repeatable)");
  set_command(*cmd, [&g, to] {
    auto primary = open_repository(g);
    auto replica = Repository::open_replica(open_repo_backend(*to), *primary);
    ops::ReplicaStatus st = ops::replica_status(*primary, *replica);
    if (g.json) {
      print_json(st.to_json());
      return kExitOk;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : st.components)
      rows.push_back({c.kind, c.source, c.replica_newest ? c.replica_newest->id.short_hex() : "none",
                      std::to_string(c.pending_points), human_duration(c.lag_s), age(c.rpo_s)});
    print_table({"kind", "source", "newest there", "pending", "lag", "DR RPO"}, rows,
                {false, false, false, true, true, true});
    std::cout << "pending: " << counted(st.pending_points, "recovery point", "recovery points") << ", "
              << counted(st.pending_wal_objects, "WAL object", "WAL objects") << " ("
              << human_bytes(st.pending_wal_bytes) << "), "
              << counted(st.pending_drill_records, "drill record", "drill records") << "\n"
              << "lag: what this repository can restore and the replica cannot yet; DR RPO: what a loss of this "
                 "site would lose now\n";
    return kExitOk;
  });
}

}  // namespace

void register_copy(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand(
      "copy",
      "Copy recovery points, the WAL archive and drill records to a replica made by 'arca init --like' "
      "(docs/replication.md)");
  add_global_options(*cmd, g);
  auto req = std::make_shared<ops::CopyRequest>();
  auto to = std::make_shared<GlobalOptions>();
  cmd->add_option("--to", to->repo, "The replica (made by 'arca init --like')");
  cmd->add_option("--to-option", to->options, "Backend option (KEY=VALUE) of the replica (repeatable)");
  cmd->add_option("snapshot", req->snapshots,
                  "Recovery points to copy (id, prefix or 'latest'), also one the replica's own retention "
                  "removed; default: every one the replica has not received yet");
  cmd->add_flag("--dry-run,-n", req->dry_run, "Say what would be copied; copy nothing");
  cmd->add_option("--streams", req->streams, "Transfers at once (default: the stores' parallelism, at least 2)")
      ->check(CLI::Range(1, 64));
  auto limit = std::make_shared<uint64_t>(0);
  cmd->add_option("--limit-upload", *limit, "Write to the replica at most this many KiB/s")->check(CLI::Range(1, 1 << 30));
  cmd->add_flag("!--no-wal", req->wal, "Leave the WAL archive alone");
  cmd->add_flag("!--no-drills", req->drills, "Leave drill records alone");
  set_command(*cmd, [&g, req, to, limit] {
    if (to->repo.empty()) throw Error(ErrorKind::Usage, "copy needs --to REPLICA (made by 'arca init --like')");
    auto primary = open_repository(g);
    CliJob job(g);
    std::unique_ptr<Backend> backend = open_repo_backend(*to);
    if (*limit) backend = std::make_unique<RateLimitedBackend>(std::move(backend), *limit * 1024, &job.ctx().cancel);
    auto replica = Repository::open_replica(std::move(backend), *primary);
    replica->set_warning_handler([](const std::string& m) { std::cerr << "warning: replica: " << m << std::endl; });
    job.show_progress(req->dry_run ? "copy (dry run)" : "copy", "points");
    ops::CopyResult r = ops::copy_to_replica(*primary, *replica, *req, job.ctx());
    job.stop_progress();
    for (const auto& d : r.damaged) std::cerr << "error: not copied: " << d << "\n";
    if (g.json) {
      print_json(r.to_json());
    } else if (!g.quiet) {
      const char* verb = r.dry_run ? "would copy" : "copied";
      for (const auto& s : r.copied)
        std::cout << verb << " " << s.id.short_hex() << "  " << short_time(s.time) << "  " << s.source_kind << " "
                  << s.source_name << "\n";
      std::cout << verb << " " << counted(r.copied.size(), "recovery point", "recovery points") << " ("
                << counted(r.blobs, "blob", "blobs") << ", " << human_bytes(r.blob_bytes) << "; "
                << counted(r.reused_blobs, "blob", "blobs") << " the replica had), "
                << counted(r.wal_objects, "WAL object", "WAL objects") << " (" << human_bytes(r.wal_bytes) << "), "
                << counted(r.drill_records, "drill record", "drill records") << " to " << r.replica << " in "
                << human_duration(r.seconds) << "\n";
      if (r.present || r.removed_there)
        std::cout << r.present << " already there"
                  << (r.removed_there ? ", " + std::to_string(r.removed_there) +
                                            " removed there by its own retention (not copied again; name one "
                                            "to copy it anyway)"
                                      : "")
                  << "\n";
    }
    if (!r.damaged.empty()) {
      std::cerr << r.damaged.size()
                << " recovery point(s) or object(s) of this repository are damaged and were not copied (the rest "
                   "were); run 'arca check --read-data' here\n";
      return kExitPartial;
    }
    return kExitOk;
  });
  register_copy_status(*cmd, g);
}

}  // namespace arca
