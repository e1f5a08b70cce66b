#include "drill/drill_targets.h"

#include "ops/pg_restore.h"
#include "ops/redis_restore.h"
#include "sources/postgres/checks_file.h"
#include "sources/postgres/pg_conn.h"
#include "sources/redis/redis_conn.h"
#include "util/error.h"

namespace arca::drill {

namespace {

// Keys per database the server holds now (INFO keyspace), only database `db` when it is >= 0.
uint64_t keys_held(RedisConn& c, int db) {
  uint64_t n = 0;
  for (const auto& [name, v] : c.info("keyspace"))
    if (name.rfind("db", 0) == 0 && v.rfind("keys=", 0) == 0 && (db < 0 || name == "db" + std::to_string(db)))
      n += std::stoull(v.substr(5));
  return n;
}

}  // namespace

void run_sql_checks(const std::vector<SqlCheck>& checks, const std::string& conninfo, ComponentResult& r) {
  for (const auto& sql : checks) {
    CheckResult k{sql.name + (sql.database == "postgres" ? "" : " (" + sql.database + ")"), false, false, ""};
    try {
      PgConn conn(pg_conninfo_with(conninfo, "dbname", sql.database), PgConn::Mode::Normal);
      PgResult q = conn.exec(sql.query, "check '" + sql.name + "'");
      std::optional<std::string> first;
      if (PQntuples(q.get()) > 0 && PQnfields(q.get()) > 0)
        first = PQgetisnull(q.get(), 0, 0) ? "NULL" : PQgetvalue(q.get(), 0, 0);
      k.detail = judge_expectation(sql.expect, PQntuples(q.get()), first);
      k.passed = k.detail.empty();
      if (k.passed) k.detail = "expectation '" + sql.expect + "' holds";
    } catch (const Error& e) {
      k.detail = e.what();
    }
    r.checks.push_back(std::move(k));
  }
}

void redis_target_component(const ComponentRun& run, ComponentResult& r, JobContext& ctx) {
  const ComponentSpec& c = run.component;
  const Target& t = c.target;
  std::string url = t.url;
  if (!t.password.empty()) url = redis_url_with_password(url, t.password.value());
  const RedisUrl parsed = RedisUrl::parse(url);
  std::unique_ptr<Repository> repo;
  Snapshot s;
  {
    PhaseTimer timer(r, run.drill_start, "locate");
    repo = run.env.open_repository();
    s = locate_point(*repo, c, run.incident);
    fill_point(r, s);
  }
  const std::string where = parsed.describe();
  ops::RedisRestoreResult res;
  {
    PhaseTimer timer(r, run.drill_start, "restore");
    // The production rule, where only the server can tell: a database that holds keys may be in use.
    {
      RedisConn conn(parsed, RedisTls{});
      const uint64_t held = keys_held(conn, parsed.db);
      const std::string which = parsed.db >= 0 ? "database " + std::to_string(parsed.db) : "its databases";
      if (held > 0 && !c.production)
        throw Error(ErrorKind::Refused, "Redis target " + where + ": " + which +
                                            (parsed.db >= 0 ? " holds " : " hold ") + std::to_string(held) +
                                            " keys, so it may be in use: a drill loads only into an empty database. "
                                            "Name an empty one, or give production: true in the component if this "
                                            "server is meant (its keys are kept, not replaced)");
      r.checks.push_back(
          {"target", true, false,
           "loaded into " + where + (held ? " (production: true; " + std::to_string(held) + " keys kept)" : "")});
    }
    ops::RedisRestoreRequest req;
    req.snapshot = s.id.hex();
    req.source = c.source;
    req.load.url = url;
    res = ops::redis_restore(*repo, req, ctx);
  }
  PhaseTimer timer(r, run.drill_start, "validate");
  // Every recorded key is accounted for: loaded, expired since the recovery point, or kept (one
  // that was already there: production only).
  uint64_t recorded = 0;
  for (const auto& [db, n] : recorded_key_counts(s)) recorded += n;
  const auto& l = res.load;
  const uint64_t accounted = l.restored + l.expired + l.kept_existing + l.filtered;
  r.checks.push_back({"loaded key counts", accounted == recorded, false,
                      std::to_string(l.restored) + " keys loaded, " + std::to_string(l.expired) + " expired since, " +
                          std::to_string(l.kept_existing) + " kept (already there); the recovery point records " +
                          std::to_string(recorded)});
  if (c.min_keys)
    r.checks.push_back({"at least " + std::to_string(*c.min_keys) + " keys", l.restored >= *c.min_keys, false,
                        std::to_string(l.restored) + " keys loaded"});
  r.newest_data = parse_time(s.time);
}

ops::PgRestoreRequest pg_restore_request(const ComponentRun& run, const std::string& data_dir) {
  const ComponentSpec& c = run.component;
  ops::PgRestoreRequest req;
  req.options.target_dir = data_dir;
  req.options.source_name = c.source;
  req.options.owner = run.env.pg_owner;
  req.options.archive_off = true;  // a drill's copy never archives WAL (into the source's archive)
  if (c.snapshot != "latest") req.options.snapshot = c.snapshot;
  return req;
}

Snapshot locate_pg_base(const ComponentRun& run, ComponentResult& r, ops::PgRestoreRequest& req, bool wal,
                        std::unique_ptr<Repository>& repo) {
  PhaseTimer timer(r, run.drill_start, "locate");
  repo = run.env.open_repository();
  if (auto why = unknown_source(repo->list_snapshots(), "postgres", run.component.source); !why.empty())
    throw Error(ErrorKind::NotFound, why);
  Snapshot base = ops::choose_pg_restore_point(*repo, req);
  fill_point(r, base);
  if (wal) req.options.restore_command = run.env.wal_fetch_command(snapshot_meta(base, "system_id"));
  return base;
}

void postgres_target_component(const ComponentRun& run, ComponentResult& r, JobContext& ctx) {
  const ComponentSpec& c = run.component;
  const Target& t = c.target;
  // Checked again here (check_targets ran before the drill): never over data, production or not.
  if (auto why = target_problem(t.data_dir); !why.empty())
    throw Error(ErrorKind::Refused, "data directory " + t.data_dir + " " + why);
  ops::PgRestoreRequest req = pg_restore_request(run, t.data_dir);
  req.options.target = pg_recovery_target(run);
  req.start = true;
  req.port = t.port;
  std::unique_ptr<Repository> repo;
  const Snapshot base =
      locate_pg_base(run, r, req, req.options.target.kind != RecoveryTarget::Kind::Immediate, repo);
  const double began = clock_now_s() - run.drill_start;
  ops::PgRestoreOpResult res = ops::pg_restore(*repo, base, req, ctx);
  r.phases.push_back({"restore", began, began + res.restore.restore_s});
  r.phases.push_back({req.options.target.kind == RecoveryTarget::Kind::Immediate ? "start" : "start and WAL replay",
                      began + res.restore.restore_s, clock_now_s() - run.drill_start});
  r.checks.push_back({"target", true, false,
                      "running on port " + std::to_string(res.port) + " (socket in " + res.socket_dir +
                          "), data directory " + res.data_directory + "; left running: stop it with pg_ctl -D " +
                          res.data_directory + " stop"});
  PhaseTimer timer(r, run.drill_start, "validate");
  const std::string conninfo = "host=" + res.socket_dir + " port=" + std::to_string(res.port);
  run_sql_checks(c.sql, conninfo, r);
  // RPO: the last commit replayed, else the base backup's end (the recovery point's time).
  r.newest_data = parse_time(base.time);
  try {
    PgConn conn(pg_conninfo_with(conninfo, "dbname", "postgres"), PgConn::Mode::Normal);
    const std::string last = conn.value(
        "SELECT coalesce(extract(epoch FROM pg_last_xact_replay_timestamp())::text, '')", "last replayed commit");
    if (!last.empty()) r.newest_data = std::stod(last);
  } catch (const Error& e) {
    r.checks.push_back({"newest commit", true, true,
                        "could not ask the server for its last replayed commit (" + std::string(e.what()) +
                            "): RPO measured from the base backup"});
  }
}

}  // namespace arca::drill
