// `arca redis`: RDB capture over the replication protocol, restore (cmd_redis_restore.cpp),
// verification in a scratch server. Flags and printing; the work is in ops/redis_*.h.
#include <future>
#include <iostream>

#include "cli/cli_job.h"
#include "cli/commands.h"
#include "cli/redis_cli.h"
#include "ops/error_table.h"
#include "ops/redis_backup.h"
#include "ops/redis_verify.h"

namespace arca {

namespace {

void print_backup(const Snapshot& snap) {
  const auto& s = snap.stats;
  const auto& m = snap.metadata;
  std::cout << "redis recovery point " << snap.id.short_hex() << " saved (" << snap.source_name << ", Redis "
            << m["server_version"]["value"].get<std::string>() << ", replication offset "
            << m["replication_offset"]["value"].get<uint64_t>() << ")\n"
            << "  RDB:    " << human_bytes(m["rdb_bytes"]["value"].get<uint64_t>()) << ", "
            << m["keys"]["value"].get<uint64_t>() << " keys, " << human_duration(s.duration_s) << "\n";
  for (const auto& [db, c] : m["key_counts"]["value"].items())
    std::cout << "  db" << db << ": " << c["keys"].get<uint64_t>() << " keys (" << c["expires"].get<uint64_t>()
              << " with expiry)\n";
  if (m.contains("aof_files")) std::cout << "  AOF:    " << m["aof_files"]["value"].size() << " files\n";
  std::cout << "  added:  " << human_bytes(s.bytes_added) << " new data, " << human_bytes(s.stored_added)
            << " stored after compression and encryption\n";
}

void register_redis_backup(CLI::App& redis, GlobalOptions& g) {
  auto* cmd =
      redis.add_subcommand("backup", "Capture a consistent RDB snapshot over the replication protocol (and AOF files)");
  add_global_options(*cmd, g);
  auto o = std::make_shared<ops::RedisBackupRequest>();
  cmd->add_option("--url", o->url,
                  "redis://[user:password@]host:port (rediss:// for TLS; password also from REDISCLI_AUTH)")
      ->required();
  auto password_file = std::make_shared<std::string>();
  add_redis_password_file_option(*cmd, *password_file);
  add_redis_tls_options(*cmd, o->tls);
  cmd->add_option("--aof-dir", o->aof_dir,
                  "Also back up the AOF: Redis 7's appendonlydir/ (or the data directory holding it), "
                  "or an appendonly.aof file");
  cmd->add_option("--name", o->name, "Source name for these recovery points (default: redis-<host>-<port>)");
  add_tags_option(*cmd, "--tag", o->tags, "Tag the recovery point (a,b is two tags; repeatable)");
  host_option(cmd->add_option("--host", o->host, "Host name to record (default: this machine's)"));
  cmd->add_option("--timeout", o->timeout_s, "Fail when the server sends nothing for this many seconds")
      ->check(CLI::Range(1, 7 * 86400))
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "Worker threads (default: number of cores)")->check(CLI::Range(1, 256));
  set_command(*cmd, [&g, o, password_file] {
    o->url = redis_url_with_password_file(o->url, *password_file);
    // The repository opens (key derivation) while the server forks and starts sending.
    auto opening = std::async(std::launch::async, [&g] { return open_repository(g); });
    std::unique_ptr<Repository> repo;
    ops::RedisBackupResult r;
    {
      CliJob job(g);
      bool shown = false;
      r = ops::redis_backup(
          [&]() -> Repository& {
            repo = opening.get();
            if (!shown) job.show_progress("redis backup", "keys"), shown = true;
            return *repo;
          },
          *o, job.ctx());
    }
    if (report_saved_snapshot(g, r.snapshot)) print_backup(r.snapshot);
    return kExitOk;
  });
}

void print_verify(const ops::RedisVerifyOpResult& r) {
  std::cout << "verify of redis recovery point " << r.snapshot.id.short_hex() << " (" << r.snapshot.source_name << ", "
            << short_time(r.snapshot.time) << "): " << (r.passed() ? "PASSED" : "FAILED") << "\n"
            << "  restore " << human_duration(r.restore_s) << " + load " << human_duration(r.load_s) << " = RTO sample "
            << human_duration(r.rto_s()) << "; recovery point age (RPO sample) "
            << human_duration(r.recovery_point_age_s) << "\n";
  for (const auto& c : r.checks)
    std::cout << "  [" << (c.passed ? " ok " : "FAIL") << "] " << c.name << ": " << c.detail << "\n";
  if (!r.scratch.empty()) std::cout << "  scratch directory kept: " << r.scratch << "\n";
}

void register_redis_verify(CLI::App& redis, GlobalOptions& g) {
  auto* cmd = redis.add_subcommand("verify",
                                   "Prove a recovery point restores: load it into a scratch redis-server, compare key "
                                   "counts and sampled values. Exit 12 if a check fails");
  add_global_options(*cmd, g);
  auto o = std::make_shared<ops::RedisVerifyRequest>();
  cmd->add_option("snapshot", o->snapshot, "Recovery point (snapshot id or 'latest')")->capture_default_str();
  cmd->add_option("--source", o->source, "With 'latest': the newest recovery point of this source name");
  cmd->add_option("--samples", o->samples, "Keys compared value by value")->capture_default_str();
  cmd->add_option("--scratch", o->scratch_parent,
                  "Directory for the scratch server's files (default: $TMPDIR or /tmp)");
  cmd->add_option("--redis-server", o->redis_server, "redis-server binary (default: from PATH)");
  cmd->add_flag("--keep", o->keep, "Keep the scratch directory");
  set_command(*cmd, [&g, o] {
    auto repo = open_repository(g);
    ops::RedisVerifyOpResult r;
    {
      CliJob job(g);
      job.show_progress("redis verify", "keys");
      r = ops::redis_verify(*repo, *o, job.ctx());
    }
    if (g.json)
      print_json(r.to_json());
    else if (!g.quiet)
      print_verify(r);
    return r.passed() ? kExitOk : kExitCorrupt;
  });
}

}  // namespace

void register_redis(CLI::App& app, GlobalOptions& g) {
  auto* redis =
      app.add_subcommand("redis", "Redis: RDB snapshots over the replication protocol, AOF, restore, verification");
  redis->require_subcommand(1);
  register_redis_backup(*redis, g);
  register_redis_restore(*redis, g);
  register_redis_verify(*redis, g);
}

}  // namespace arca
