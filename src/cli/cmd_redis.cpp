// `arca redis`: RDB capture over the replication protocol, restore (files, a started server, or
// keys loaded into a running server), verification in a scratch server.
#include <future>
#include <iostream>

#include "cli/commands.h"
#include "ops/error_table.h"
#include "cli/progress_display.h"
#include "restore/restore.h"
#include "sources/redis/rdb_capture.h"
#include "sources/redis/redis_restore.h"
#include "sources/redis/redis_server.h"
#include "sources/redis/redis_verify.h"
#include "util/error.h"
#include "util/io.h"

namespace arca {

namespace {

void add_tls_options(CLI::App& cmd, RedisTls& tls) {
  cmd.add_flag("--tls", tls.enabled, "Connect with TLS (also implied by a rediss:// URL)");
  cmd.add_option("--tls-ca", tls.ca_file, "CA certificates to verify the server with (default: the system's)");
  cmd.add_option("--tls-cert", tls.cert_file, "Client certificate (PEM), when the server requires one");
  cmd.add_option("--tls-key", tls.key_file, "Client certificate's private key (PEM; default: in --tls-cert)");
  cmd.add_flag("--tls-insecure", tls.insecure, "Do not verify the server's certificate (tests only)");
}

// --redis-password-file: the password reaches the URL in memory only, never argv (docs/security.md).
void add_password_file_option(CLI::App& cmd, std::string& file) {
  cmd.add_option("--redis-password-file", file,
                 "Read the Redis password from this file's first line (keeps it out of the process list; "
                 "REDISCLI_AUTH works too)");
}

std::string url_with_password_file(const std::string& url, const std::string& file) {
  return file.empty() ? url : redis_url_with_password(url, read_password_file(file));
}

// --server-option NAME=VALUE and the lines of --server-option-file (NAME=VALUE; # comments).
std::vector<std::pair<std::string, std::string>> server_settings(const std::vector<std::string>& options,
                                                                 const std::string& file) {
  std::vector<std::string> all = options;
  if (!file.empty()) {
    Bytes text = read_whole_file(file);
    std::string line;
    for (size_t i = 0; i <= text.size(); i++) {
      if (i < text.size() && text[i] != '\n') {
        line += char(text[i]);
        continue;
      }
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (!line.empty() && line[0] != '#') all.push_back(line);
      line.clear();
    }
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& opt : all) {
    auto eq = opt.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error(ErrorKind::Usage,
                  "a redis-server setting is NAME=VALUE, not '" + opt.substr(0, opt.find('=')) + "…'");
    out.emplace_back(opt.substr(0, eq), opt.substr(eq + 1));
  }
  return out;
}

void print_keys(const Snapshot& snap) {
  for (const auto& [db, c] : snap.metadata["key_counts"]["value"].items())
    std::cout << "  db" << db << ": " << c["keys"].get<uint64_t>() << " keys (" << c["expires"].get<uint64_t>()
              << " with expiry)\n";
}

void register_redis_backup(CLI::App& redis, GlobalOptions& g) {
  auto* cmd =
      redis.add_subcommand("backup", "Capture a consistent RDB snapshot over the replication protocol (and AOF files)");
  add_global_options(*cmd, g);
  auto o = std::make_shared<RedisBackupOptions>();
  cmd->add_option("--url", o->url,
                  "redis://[user:password@]host:port (rediss:// for TLS; password also from REDISCLI_AUTH)")
      ->required();
  auto password_file = std::make_shared<std::string>();
  add_password_file_option(*cmd, *password_file);
  add_tls_options(*cmd, o->tls);
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
    o->url = url_with_password_file(o->url, *password_file);
    // The repository opens (key derivation) while the server forks and starts sending.
    auto opening = std::async(std::launch::async, [&g] { return open_repository(g); });
    RedisCaptureLink link = redis_start_capture(*o);
    auto repo = opening.get();
    ProgressCounters progress;
    Snapshot snap;
    {
      ProgressDisplay display(progress, "redis backup", "keys", show_progress(g));
      snap = redis_finish_capture(*repo, link, *o, progress);
    }
    if (report_saved_snapshot(g, snap)) {
      const auto& s = snap.stats;
      const auto& m = snap.metadata;
      std::cout << "redis recovery point " << snap.id.short_hex() << " saved (" << snap.source_name << ", Redis "
                << m["server_version"]["value"].get<std::string>() << ", replication offset "
                << m["replication_offset"]["value"].get<uint64_t>() << ")\n"
                << "  RDB:    " << human_bytes(m["rdb_bytes"]["value"].get<uint64_t>()) << ", "
                << m["keys"]["value"].get<uint64_t>() << " keys, " << human_duration(s.duration_s) << "\n";
      print_keys(snap);
      if (m.contains("aof_files")) std::cout << "  AOF:    " << m["aof_files"]["value"].size() << " files\n";
      std::cout << "  added:  " << human_bytes(s.bytes_added) << " new data, " << human_bytes(s.stored_added)
                << " stored after compression and encryption\n";
    }
    return kExitOk;
  });
}

void register_redis_restore(CLI::App& redis, GlobalOptions& g) {
  auto* cmd = redis.add_subcommand(
      "restore",
      "Restore a recovery point: dump.rdb (and AOF) into a directory, optionally started; or load its keys into a "
      "running server");
  add_global_options(*cmd, g);
  struct Opts {
    std::string snapshot = "latest", source, to, port_bind = "127.0.0.1", redis_server, server_option_file,
                password_file;
    std::vector<std::string> server_options;
    int port = 0, timeout_s = 600;
    bool start = false, force = false;
    RedisLoadOptions load;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("snapshot", o->snapshot, "Recovery point (snapshot id or 'latest')")->capture_default_str();
  cmd->add_option("--source", o->source, "With 'latest': the newest recovery point of this source name");
  cmd->add_option("--to,--target", o->to,
                  "Directory to write dump.rdb (and appendonlydir/) into (--target is the same)");
  cmd->add_flag("--force", o->force, "With --to: replace an existing dump.rdb or appendonlydir/ (default: refuse)");
  cmd->add_flag("--start", o->start,
                "Start a redis-server on the restored files (needs --port) and wait until it has loaded");
  cmd->add_option("--port", o->port, "Port for --start")->check(CLI::Range(1, 65535));
  cmd->add_option("--bind", o->port_bind, "Address for --start to listen on")->capture_default_str();
  cmd->add_option("--redis-server", o->redis_server, "redis-server binary for --start (default: from PATH)");
  cmd->add_option("--server-option", o->server_options,
                  "With --start: a redis-server setting NAME=VALUE (e.g. maxmemory=4gb); repeatable. Passed on "
                  "redis-server's standard input, not its command line")
      ->allow_extra_args(false);
  cmd->add_option("--server-option-file", o->server_option_file,
                  "With --start: redis-server settings NAME=VALUE, one a line (# comments): for secrets such as "
                  "requirepass, which --server-option would show in the process list");
  cmd->add_option("--timeout", o->timeout_s, "Seconds --start waits for the data set to load")
      ->check(CLI::Range(1, 7 * 86400))
      ->capture_default_str();
  cmd->add_option("--into", o->load.url, "Load the keys into this running server instead (redis://…; RESTORE per key)");
  add_password_file_option(*cmd, o->password_file);
  add_tls_options(*cmd, o->load.tls);
  cmd->add_option("--match", o->load.match, "With --into: only keys matching this glob (e.g. 'session:*')");
  cmd->add_option("--db", o->load.source_db, "With --into: only keys of this database");
  cmd->add_flag("--replace", o->load.replace,
                "With --into: overwrite existing keys (default: keep them and count them)");
  set_command(*cmd, [&g, o] {
    if (o->to.empty() == o->load.url.empty()) throw Error(ErrorKind::Usage, "give either --to DIR or --into redis://…");
    if (o->start && o->port == 0) throw Error(ErrorKind::Usage, "--start needs --port N");
    if (o->start && o->to.empty()) throw Error(ErrorKind::Usage, "--start goes with --to DIR");
    std::vector<std::string> extra = {"--bind", o->port_bind};
    auto settings = server_settings(o->server_options, o->server_option_file);
    if (!o->load.url.empty())
      o->load.url = url_with_password_file(o->load.url, o->password_file);
    else if (!o->password_file.empty())
      throw Error(ErrorKind::Usage, "--redis-password-file goes with --into");
    auto repo = open_repository(g);
    Snapshot snap = find_redis_snapshot(*repo, o->snapshot, o->source);
    ProgressCounters progress;
    if (!o->load.url.empty()) {
      RedisLoadResult r;
      {
        ProgressDisplay display(progress, "redis restore", "keys", show_progress(g));
        r = redis_load_into(*repo, snap, o->load, progress);
      }
      if (g.json)
        print_json({{"snapshot", snap.id.hex()},
                    {"restored", r.restored},
                    {"kept_existing", r.kept_existing},
                    {"filtered", r.filtered},
                    {"expired", r.expired},
                    {"duration_s", r.duration_s}});
      else if (!g.quiet)
        std::cout << "loaded " << r.restored << " keys from " << snap.id.short_hex() << " into "
                  << RedisUrl::parse(o->load.url).describe() << " in " << human_duration(r.duration_s) << "; "
                  << r.kept_existing << " existing kept, " << r.filtered << " not matching, " << r.expired
                  << " already expired\n";
      return kExitOk;
    }
    RestoreResult rr;
    {
      ProgressDisplay display(progress, "redis restore", "files", show_progress(g));
      rr = redis_restore_files(*repo, snap, o->to, o->force, progress);
    }
    if (rr.no_space) {
      std::cerr << "the filesystem of " << o->to << " is full: free space and run the restore again\n";
      return kExitNoSpace;
    }
    if (!rr.errors.empty()) {
      bool target = false;
      for (const auto& e : rr.errors) {
        std::cerr << "error: " << e.path << ": " << e.message << "\n";
        target |= e.source == RestoreProblemSource::Target;
      }
      // A problem writing the target is not damage in the repository.
      if (target) return kExitError;
      std::cerr << "the recovery point's data is damaged; run 'arca check --read-data'\n";
      return kExitCorrupt;
    }
    nlohmann::json out = {
        {"snapshot", snap.id.hex()}, {"to", o->to}, {"bytes", rr.bytes}, {"restore_s", rr.duration_s}};
    if (!g.json && !g.quiet)
      std::cout << "restored " << snap.id.short_hex() << " (" << snap.source_name << ", "
                << snap.metadata["keys"]["value"].get<uint64_t>() << " keys) into " << o->to << ": "
                << human_bytes(rr.bytes) << " in " << human_duration(rr.duration_s) << "\n";
    if (o->start) {
      RedisServer server(find_redis_server(o->redis_server), std::filesystem::absolute(o->to).string(), o->port);
      for (const auto& [name, value] : settings)
        if (name == "requirepass") server.set_password(value);
      if (snap.metadata.contains("aof_files") &&
          std::filesystem::exists(std::filesystem::path(o->to) / "appendonlydir"))
        extra.insert(extra.end(), {"--appendonly", "yes", "--appenddirname", "appendonlydir"});
      auto t = std::chrono::steady_clock::now();
      server.start(extra, o->timeout_s, settings);
      double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
      uint64_t keys = 0;
      RedisConn c(server.url(), RedisTls{});
      for (const auto& [db, v] : c.info("keyspace"))
        if (v.rfind("keys=", 0) == 0) keys += std::stoull(v.substr(5));
      out["pid"] = server.pid();
      out["port"] = o->port;
      out["load_s"] = load_s;
      out["keys_loaded"] = keys;
      if (!g.json && !g.quiet)
        std::cout << "redis-server started (pid " << server.pid() << ", port " << o->port << "): " << keys
                  << " keys loaded in " << human_duration(load_s) << "; log: " << server.log_file() << "\n";
      server.release();
    }
    if (g.json) print_json(out);
    return kExitOk;
  });
}

void register_redis_verify(CLI::App& redis, GlobalOptions& g) {
  auto* cmd = redis.add_subcommand("verify",
                                   "Prove a recovery point restores: load it into a scratch redis-server, compare key "
                                   "counts and sampled values. Exit 12 if a check fails");
  add_global_options(*cmd, g);
  auto o = std::make_shared<RedisVerifyOptions>();
  cmd->add_option("snapshot", o->snapshot, "Recovery point (snapshot id or 'latest')")->capture_default_str();
  cmd->add_option("--source", o->source, "With 'latest': the newest recovery point of this source name");
  cmd->add_option("--samples", o->samples, "Keys compared value by value")->capture_default_str();
  cmd->add_option("--scratch", o->scratch_parent,
                  "Directory for the scratch server's files (default: $TMPDIR or /tmp)");
  cmd->add_option("--redis-server", o->redis_server, "redis-server binary (default: from PATH)");
  cmd->add_flag("--keep", o->keep, "Keep the scratch directory");
  set_command(*cmd, [&g, o] {
    auto repo = open_repository(g);
    ProgressCounters progress;
    RedisVerifyResult r;
    {
      ProgressDisplay display(progress, "redis verify", "keys", show_progress(g));
      r = redis_verify(*repo, *o, progress);
    }
    bool ok = r.passed();
    double rto = r.restore_s + r.load_s;
    if (g.json) {
      nlohmann::json checks = nlohmann::json::array();
      for (const auto& c : r.checks)
        checks.push_back({{"name", c.name}, {"status", c.passed ? "passed" : "failed"}, {"detail", c.detail}});
      print_json({{"snapshot", r.snapshot.id.hex()},
                  {"source", r.snapshot.source_name},
                  {"passed", ok},
                  {"restore_s", r.restore_s},
                  {"load_s", r.load_s},
                  {"rto_sample_s", rto},
                  {"checks_s", r.checks_s},
                  {"keys_loaded", r.keys_loaded},
                  {"recovery_point_age_s", r.recovery_point_age_s},
                  {"checks", checks},
                  {"scratch", r.scratch.empty() ? nlohmann::json() : nlohmann::json(r.scratch)}});
    } else if (!g.quiet) {
      std::cout << "verify of redis recovery point " << r.snapshot.id.short_hex() << " (" << r.snapshot.source_name
                << ", " << short_time(r.snapshot.time) << "): " << (ok ? "PASSED" : "FAILED") << "\n"
                << "  restore " << human_duration(r.restore_s) << " + load " << human_duration(r.load_s)
                << " = RTO sample " << human_duration(rto) << "; recovery point age (RPO sample) "
                << human_duration(r.recovery_point_age_s) << "\n";
      for (const auto& c : r.checks)
        std::cout << "  [" << (c.passed ? " ok " : "FAIL") << "] " << c.name << ": " << c.detail << "\n";
      if (!r.scratch.empty()) std::cout << "  scratch directory kept: " << r.scratch << "\n";
    }
    return ok ? kExitOk : kExitCorrupt;
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
