#include "ops/pg_standby.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "sources/postgres/pg_conn.h"
#include "sources/postgres/pg_server.h"
#include "sources/postgres/wal_prefetch.h"
#include "util/clock.h"
#include "util/error.h"

namespace arca::ops {

namespace {

struct Located {
  std::string dir;
  PgRunningServer server;
};

Located locate(const std::string& data_directory) {
  if (data_directory.empty()) throw Error(ErrorKind::Usage, "no data directory given (--data-dir DIR)");
  std::string dir = std::filesystem::absolute(data_directory).lexically_normal().string();
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  struct stat st;
  if (stat(dir.c_str(), &st) != 0)
    throw Error(ErrorKind::NotFound, dir +
                                         " does not exist: give the standby's data directory, the --to of 'arca pg "
                                         "restore --standby'");
  if (stat((dir + "/PG_VERSION").c_str(), &st) != 0)
    throw Error(ErrorKind::NotFound, dir +
                                         " is not a PostgreSQL data directory (it has no PG_VERSION): give the "
                                         "standby's data directory, the --to of 'arca pg restore --standby'");
  auto server = running_pg_server(dir);
  if (!server)
    throw Error(ErrorKind::Unreachable, "no PostgreSQL server is running on " + dir +
                                            " (no live postmaster.pid): start the standby first (pg_ctl -D " + dir +
                                            " start, as its owner), or restore one with 'arca pg restore --standby "
                                            "--start'");
  return {dir, *server};
}

// The server's own socket (or listen address) and port, so no PG* variable can point elsewhere.
std::string default_conninfo(const Located& l) {
  std::string host = l.server.socket_dir;
  if (host.empty()) host = l.server.listen.empty() || l.server.listen == "*" ? "localhost" : l.server.listen;
  std::string ci = pg_conninfo_with("", "host", host);
  if (l.server.port > 0) ci = pg_conninfo_with(ci, "port", std::to_string(l.server.port));
  ci = pg_conninfo_with(ci, "dbname", "postgres");
  // root has no role of its own: the directory's owner is the server's user (peer or trust).
  struct stat st;
  if (geteuid() == 0 && !std::getenv("PGUSER") && stat(l.dir.c_str(), &st) == 0)
    if (passwd* pw = getpwuid(st.st_uid)) ci = pg_conninfo_with(ci, "user", pw->pw_name);
  return ci;
}

PgConn connect(const PgStandbyRef& ref, const Located& l) {
  try {
    return PgConn(ref.conninfo.empty() ? default_conninfo(l) : ref.conninfo, PgConn::Mode::Normal);
  } catch (const Error& e) {
    throw Error(e.kind(), std::string(e.what()) + "\n  the server on " + l.dir +
                              " must be reachable for its replay position: run as the server's user (sudo -u "
                              "postgres arca pg …) or give --conn");
  }
}

PgReplayState read_state(const PgConn& c) {
  PgResult r = c.exec(
      "SELECT pg_is_in_recovery(), coalesce(pg_last_wal_replay_lsn()::text, ''), "
      "coalesce(to_char(pg_last_xact_replay_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), ''), "
      "coalesce(extract(epoch FROM pg_last_xact_replay_timestamp())::text, '')",
      "reading the replay position");
  PgReplayState s;
  s.in_recovery = std::string(PQgetvalue(r.get(), 0, 0)) == "t";
  s.replay_lsn = PQgetvalue(r.get(), 0, 1);
  s.last_commit_time = PQgetvalue(r.get(), 0, 2);
  std::string unix_s = PQgetvalue(r.get(), 0, 3);
  if (!unix_s.empty()) s.last_commit_unix = std::strtod(unix_s.c_str(), nullptr);
  return s;
}

void refuse_primary(const PgReplayState& s, const Located& l) {
  if (!s.in_recovery)
    throw Error(ErrorKind::Refused, "the server on " + l.dir + " (port " + std::to_string(l.server.port) +
                                        ") is not a standby: it is not in recovery (pg_is_in_recovery() is false), "
                                        "so there is nothing to promote; a standby comes from 'arca pg restore "
                                        "--standby --start'");
}

// The new primary's WAL must reach an archive again, or the next disaster has no recovery point.
void check_archiving(const PgConn& c, std::vector<std::string>& warnings) {
  PgResult r = c.exec(
      "SELECT current_setting('archive_mode'), current_setting('archive_command'), "
      "coalesce(current_setting('archive_library', true), '')",
      "reading the archive settings");
  std::string mode = PQgetvalue(r.get(), 0, 0), command = PQgetvalue(r.get(), 0, 1),
              library = PQgetvalue(r.get(), 0, 2);
  if (mode == "off")
    warnings.push_back(
        "archive_mode is off: the new primary's WAL is not archived; turn it on and set archive_command "
        "('arca pg wal-push …'), then restart, and take a base backup");
  else if (command.empty() && library.empty())
    warnings.push_back(
        "archive_command is empty (every Arca restore empties it): the new primary keeps its WAL in pg_wal and "
        "archives none; ALTER SYSTEM SET archive_command = 'arca pg wal-push --repo … %p'; SELECT "
        "pg_reload_conf(); and take a base backup");
}

// What only recovery needed: the repository's credentials for restore_command (in Arca's private
// run directory, which is the socket directory of a server Arca started) and the prefetched WAL.
void remove_recovery_leftovers(const Located& l, std::vector<std::string>& warnings) {
  std::filesystem::path run = l.server.socket_dir;
  if (!run.empty() && run.filename().string().rfind("arca-pg-", 0) == 0) {
    std::string creds = (run / "credentials").string();
    if (unlink(creds.c_str()) != 0 && errno != ENOENT)
      warnings.push_back("could not remove " + creds +
                         " (the repository's credentials, no longer needed): " + std::strerror(errno) + "; remove it");
  }
  std::error_code ec;
  std::filesystem::remove_all(default_wal_spool(l.dir), ec);
  if (ec) warnings.push_back("could not remove the WAL spool " + default_wal_spool(l.dir) + ": " + ec.message());
}

}  // namespace

PgReplayState pg_replay_state(const PgStandbyRef& ref) {
  Located l = locate(ref.data_directory);
  return read_state(connect(ref, l));
}

PgPromoteResult pg_promote(const PgPromoteRequest& req, JobContext& ctx) {
  if (req.timeout_s <= 0)
    throw Error(ErrorKind::Usage, "--timeout " + std::to_string(req.timeout_s) + ": expected seconds above 0");
  Located l = locate(req.server.data_directory);
  PgConn c = connect(req.server, l);
  PgPromoteResult res;
  res.data_directory = l.dir;
  res.port = l.server.port;
  res.before = read_state(c);
  refuse_primary(res.before, l);
  ctx.cancel.check("PostgreSQL promotion");

  res.requested_unix = clock_now_s();
  auto t0 = std::chrono::steady_clock::now();
  // pg_promote(wait => true) returns once recovery has ended and the server accepts writes, or
  // false when the wait ran out (the promotion may still finish later).
  PgResult r = [&] {
    try {
      return c.exec("SELECT pg_promote(true, " + std::to_string(req.timeout_s) + ")", "pg_promote()");
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Auth) throw;
      throw Error(ErrorKind::Auth, std::string(e.what()) +
                                       "\n  the role needs superuser or EXECUTE on pg_promote(); or run pg_ctl "
                                       "promote -D " +
                                       l.dir + " as the server's user");
    }
  }();
  if (std::string(PQgetvalue(r.get(), 0, 0)) != "t")
    throw Error(ErrorKind::Generic, "the standby on " + l.dir + " did not finish promotion within " +
                                        std::to_string(req.timeout_s) + " s (it may still finish): see its log (" +
                                        l.dir + "/arca-server.log when Arca started it) and give a longer --timeout");
  res.after = read_state(c);
  res.promote_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  res.promoted_unix = clock_now_s();
  if (res.after.in_recovery)
    throw Error(ErrorKind::Generic,
                "pg_promote() returned but the server on " + l.dir + " is still in recovery: see its log");
  // The replay position survives the end of recovery; if a server ever reports none, the last
  // one seen while it was a standby is the best known.
  if (res.after.replay_lsn.empty()) res.after.replay_lsn = res.before.replay_lsn;
  if (res.after.last_commit_time.empty()) {
    res.after.last_commit_time = res.before.last_commit_time;
    res.after.last_commit_unix = res.before.last_commit_unix;
  }
  remove_recovery_leftovers(l, res.warnings);
  check_archiving(c, res.warnings);
  return res;
}

nlohmann::json PgPromoteResult::to_json() const {
  auto text_or_null = [](const std::string& s) { return s.empty() ? nlohmann::json() : nlohmann::json(s); };
  auto number_or_null = [](double v) { return v > 0 ? nlohmann::json(v) : nlohmann::json(); };
  return {{"data_directory", data_directory},
          {"port", port},
          {"promoted", true},
          {"promote_s", promote_s},
          {"requested_at", rfc3339_utc(requested_unix, true)},
          {"promoted_at", rfc3339_utc(promoted_unix, true)},
          {"last_replayed_lsn", text_or_null(after.replay_lsn)},
          {"last_replayed_commit_time", text_or_null(after.last_commit_time)},
          {"last_replayed_commit_unix", number_or_null(after.last_commit_unix)},
          {"before",
           {{"replay_lsn", text_or_null(before.replay_lsn)},
            {"last_commit_time", text_or_null(before.last_commit_time)},
            {"last_commit_unix", number_or_null(before.last_commit_unix)}}},
          {"warnings", warnings}};
}

}  // namespace arca::ops
