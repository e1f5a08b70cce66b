#include "ops/redis_restore.h"

#include <chrono>
#include <filesystem>

#include "restore/restore_outcome.h"
#include "sources/redis/redis_server.h"
#include "util/error.h"
#include "util/io.h"

namespace arca::ops {

void RedisRestoreRequest::validate() const {
  if (to.empty() == load.url.empty()) throw Error(ErrorKind::Usage, "give either --to DIR or --into redis://…");
  if (start && port == 0) throw Error(ErrorKind::Usage, "--start needs --port N");
  if (start && to.empty()) throw Error(ErrorKind::Usage, "--start goes with --to DIR");
}

std::optional<ErrorKind> RedisRestoreResult::failure() const {
  if (loaded_into) return std::nullopt;
  // A data set is usable only whole: judged like a cluster (restore/restore_outcome.h).
  return restore_outcome_error(judge_restore(files, RestoreScope::AllOrNothing).outcome);
}

nlohmann::json RedisRestoreResult::to_json() const {
  if (loaded_into)
    return {{"snapshot", snapshot.id.hex()}, {"restored", load.restored}, {"kept_existing", load.kept_existing},
            {"filtered", load.filtered},     {"expired", load.expired},   {"duration_s", load.duration_s}};
  nlohmann::json out = {
      {"snapshot", snapshot.id.hex()}, {"to", to}, {"bytes", files.bytes}, {"restore_s", files.duration_s}};
  if (server) {
    out["pid"] = server->pid;
    out["port"] = server->port;
    out["load_s"] = server->load_s;
    out["keys_loaded"] = server->keys_loaded;
  }
  return out;
}

namespace {

// A redis-server on the restored files, waited for until it has loaded them, then left running.
RedisStartedServer start_server(const RedisRestoreRequest& req, const Snapshot& snap) {
  RedisServer server(find_redis_server(req.redis_server), std::filesystem::absolute(req.to).string(), req.port);
  for (const auto& [name, value] : req.server_settings)
    if (name == "requirepass") server.set_password(value);
  std::vector<std::string> extra = {"--bind", req.bind};
  if (snap.metadata.contains("aof_files") && std::filesystem::exists(std::filesystem::path(req.to) / "appendonlydir"))
    extra.insert(extra.end(), {"--appendonly", "yes", "--appenddirname", "appendonlydir"});
  auto t = std::chrono::steady_clock::now();
  server.start(extra, req.timeout_s, req.server_settings);
  RedisStartedServer s;
  s.load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  RedisConn c(server.url(), RedisTls{});
  for (const auto& [db, v] : c.info("keyspace"))
    if (v.rfind("keys=", 0) == 0) s.keys_loaded += std::stoull(v.substr(5));
  s.pid = server.pid();
  s.port = req.port;
  s.log_file = server.log_file();
  server.release();
  return s;
}

}  // namespace

RedisRestoreResult redis_restore(Repository& repo, const RedisRestoreRequest& req, JobContext& ctx) {
  req.validate();
  RedisRestoreResult r;
  r.snapshot = find_redis_snapshot(repo, req.snapshot, req.source);
  if (!req.load.url.empty()) {
    RedisLoadOptions load = req.load;
    load.cancel = &ctx.cancel;
    r.loaded_into = true;
    r.into = RedisUrl::parse(load.url).describe();
    r.load = redis_load_into(repo, r.snapshot, load, ctx.progress);
    return r;
  }
  r.to = req.to;
  r.files = redis_restore_files(repo, r.snapshot, req.to, req.force, ctx.progress, &ctx.cancel);
  if (r.failure() || !req.start) return r;
  if (ctx.cancel.cancelled())
    throw Error(ErrorKind::Cancelled, "Redis restore cancelled before the server started: the files in " + req.to +
                                          " are complete; start redis-server on them, or run the restore again");
  r.server = start_server(req, r.snapshot);
  return r;
}

std::vector<std::pair<std::string, std::string>> redis_server_settings(const std::vector<std::string>& options,
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

}  // namespace arca::ops
