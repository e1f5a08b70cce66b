// `arca redis restore`: flags and printing; the restore (and the server it starts) is
// ops::redis_restore.
#include <iostream>

#include "cli/cli_job.h"
#include "cli/redis_cli.h"
#include "ops/error_table.h"
#include "ops/redis_restore.h"

namespace arca {

namespace {

// Says why the files restore failed; returns its exit code.
int report_failure(const ops::RedisRestoreResult& r, ErrorKind why) {
  if (why == ErrorKind::NoSpace) {
    std::cerr << "the filesystem of " << r.to << " is full: free space and run the restore again\n";
    return exit_code_for(why);
  }
  for (const auto& e : r.files.errors) std::cerr << "error: " << e.path << ": " << e.message << "\n";
  if (why == ErrorKind::Corrupt) std::cerr << "the recovery point's data is damaged; run 'arca check --read-data'\n";
  return exit_code_for(why);
}

void print_summary(const ops::RedisRestoreResult& r) {
  if (r.loaded_into) {
    const auto& l = r.load;
    std::cout << "loaded " << l.restored << " keys from " << r.snapshot.id.short_hex() << " into " << r.into << " in "
              << human_duration(l.duration_s) << "; " << l.kept_existing << " existing kept, " << l.filtered
              << " not matching, " << l.expired << " already expired\n";
    return;
  }
  std::cout << "restored " << r.snapshot.id.short_hex() << " (" << r.snapshot.source_name << ", "
            << r.snapshot.metadata["keys"]["value"].get<uint64_t>() << " keys) into " << r.to << ": "
            << human_bytes(r.files.bytes) << " in " << human_duration(r.files.duration_s) << "\n";
  if (const auto& s = r.server)
    std::cout << "redis-server started (pid " << s->pid << ", port " << s->port << "): " << s->keys_loaded
              << " keys loaded in " << human_duration(s->load_s) << "; log: " << s->log_file << "\n";
}

}  // namespace

void register_redis_restore(CLI::App& redis, GlobalOptions& g) {
  auto* cmd = redis.add_subcommand(
      "restore",
      "Restore a recovery point: dump.rdb (and AOF) into a directory, optionally started; or load its keys into a "
      "running server");
  add_global_options(*cmd, g);
  struct Opts {
    ops::RedisRestoreRequest req;
    std::string server_option_file, password_file;
    std::vector<std::string> server_options;
  };
  auto o = std::make_shared<Opts>();
  auto& q = o->req;
  cmd->add_option("snapshot", q.snapshot, "Recovery point (snapshot id or 'latest')")->capture_default_str();
  cmd->add_option("--source", q.source, "With 'latest': the newest recovery point of this source name");
  cmd->add_option("--to,--target", q.to,
                  "Directory to write dump.rdb (and appendonlydir/) into (--target is the same)");
  cmd->add_flag("--force", q.force, "With --to: replace an existing dump.rdb or appendonlydir/ (default: refuse)");
  cmd->add_flag("--start", q.start,
                "Start a redis-server on the restored files (needs --port) and wait until it has loaded");
  cmd->add_option("--port", q.port, "Port for --start")->check(CLI::Range(1, 65535));
  cmd->add_option("--bind", q.bind, "Address for --start to listen on")->capture_default_str();
  cmd->add_option("--redis-server", q.redis_server, "redis-server binary for --start (default: from PATH)");
  cmd->add_option("--server-option", o->server_options,
                  "With --start: a redis-server setting NAME=VALUE (e.g. maxmemory=4gb); repeatable. Passed on "
                  "redis-server's standard input, not its command line")
      ->allow_extra_args(false);
  cmd->add_option("--server-option-file", o->server_option_file,
                  "With --start: redis-server settings NAME=VALUE, one a line (# comments): for secrets such as "
                  "requirepass, which --server-option would show in the process list");
  cmd->add_option("--timeout", q.timeout_s, "Seconds --start waits for the data set to load")
      ->check(CLI::Range(1, 7 * 86400))
      ->capture_default_str();
  cmd->add_option("--into", q.load.url, "Load the keys into this running server instead (redis://…; RESTORE per key)");
  add_redis_password_file_option(*cmd, o->password_file);
  add_redis_tls_options(*cmd, q.load.tls);
  cmd->add_option("--match", q.load.match, "With --into: only keys matching this glob (e.g. 'session:*')");
  cmd->add_option("--db", q.load.source_db, "With --into: only keys of this database");
  cmd->add_flag("--replace", q.load.replace,
                "With --into: overwrite existing keys (default: keep them and count them)");
  set_command(*cmd, [&g, o]() -> int {
    auto& q = o->req;
    q.validate();
    q.server_settings = ops::redis_server_settings(o->server_options, o->server_option_file);
    if (!q.load.url.empty())
      q.load.url = redis_url_with_password_file(q.load.url, o->password_file);
    else if (!o->password_file.empty())
      throw Error(ErrorKind::Usage, "--redis-password-file goes with --into");
    auto repo = open_repository(g);
    ops::RedisRestoreResult r;
    {
      CliJob job(g);
      job.show_progress("redis restore", q.load.url.empty() ? "files" : "keys");
      r = ops::redis_restore(*repo, q, job.ctx());
    }
    if (auto why = r.failure()) return report_failure(r, *why);
    if (g.json)
      print_json(r.to_json());
    else if (!g.quiet)
      print_summary(r);
    return kExitOk;
  });
}

}  // namespace arca
