#include "drill/drill_failover.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "drill/drill_targets.h"
#include "ops/pg_restore.h"
#include "ops/pg_standby.h"
#include "sources/postgres/pg_conn.h"
#include "sources/postgres/pg_server.h"
#include "sources/postgres/wal_archive.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/net.h"

namespace arca::drill {

namespace {

// Seconds, shortly ("2.5 s") for messages and check details.
std::string secs(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", s);
  return buf;
}

// The newest whole segment archived for the cluster, on the highest timeline holding segments
// (the one a standby with recovery_target_timeline = latest follows). Pieces of a segment still
// being streamed do not count: a standby replays whole segments only.
struct NewestSegment {
  std::optional<uint64_t> segno;
  std::string name;
};

NewestSegment newest_archived_segment(Repository& repo, uint64_t system_id, uint64_t segment_size) {
  NewestSegment out;
  uint32_t timeline = 0;
  for (const auto& o : WalArchive(repo, system_id).list()) {
    if (o.piece) continue;
    auto w = parse_wal_file_name(o.file, segment_size);
    if (!w || w->kind != WalFileName::Kind::Segment) continue;
    if (!out.segno || w->timeline > timeline || (w->timeline == timeline && w->segno > *out.segno)) {
      timeline = w->timeline;
      out.segno = w->segno;
      out.name = o.file;
    }
  }
  return out;
}

// How the drill reaches the standby: its own socket and port, database postgres; as root (which
// has no role), as the data directory's owner unless PGUSER says otherwise — as `arca pg promote`.
std::string standby_conninfo(const std::string& socket_dir, int port, const std::string& data_dir) {
  std::string ci = pg_conninfo_with("", "host", socket_dir);
  ci = pg_conninfo_with(ci, "port", std::to_string(port));
  ci = pg_conninfo_with(ci, "dbname", "postgres");
  struct stat st;
  if (geteuid() == 0 && !std::getenv("PGUSER") && stat(data_dir.c_str(), &st) == 0)
    if (passwd* pw = getpwuid(st.st_uid)) ci = pg_conninfo_with(ci, "user", pw->pw_name);
  return ci;
}

struct StandbyLook {
  bool in_recovery = true;
  Lsn replay = 0;
  bool waiting_for_wal = false;
};

StandbyLook look(const std::string& conninfo) {
  PgConn c(conninfo, PgConn::Mode::Normal);
  // RecoveryRetrieveRetryInterval: the startup process found the next WAL in no source (archive,
  // pg_wal, stream) and waits before asking again. Seen by a superuser (the drill's own server);
  // otherwise the row's wait_event reads NULL and the idle rule of caught_up() applies.
  PgResult q = c.exec(
      "SELECT pg_is_in_recovery(), coalesce(pg_last_wal_replay_lsn()::text, ''), "
      "EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'startup' "
      "AND wait_event = 'RecoveryRetrieveRetryInterval')",
      "the standby's replay position");
  StandbyLook s;
  s.in_recovery = std::string(PQgetvalue(q.get(), 0, 0)) == "t";
  const std::string lsn = PQgetvalue(q.get(), 0, 1);
  s.replay = lsn.empty() ? 0 : parse_lsn(lsn);
  s.waiting_for_wal = std::string(PQgetvalue(q.get(), 0, 2)) == "t";
  return s;
}

struct Standby {
  std::string data_dir, conninfo, socket_dir;
  int port = 0;
};

// Waits until the standby has replayed all the WAL the archive holds now; returns how that is
// known. Throws when it stops, leaves recovery by itself, or the timeout passes.
std::string catch_up(const ComponentRun& run, Repository& repo, const Snapshot& base, const Standby& sb,
                     JobContext& ctx) {
  uint64_t segment_size = 0;
  double retry_s = 5;
  {
    PgConn c(sb.conninfo, PgConn::Mode::Normal);
    PgResult q = c.exec(
        "SELECT (SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'), "
        "(SELECT setting::float8 / 1000 FROM pg_settings WHERE name = 'wal_retrieve_retry_interval')",
        "the standby's WAL settings");
    segment_size = pg_number(PQgetvalue(q.get(), 0, 0), "wal_segment_size");
    retry_s = std::strtod(PQgetvalue(q.get(), 0, 1), nullptr);
  }
  const NewestSegment newest = newest_archived_segment(
      repo, pg_number(snapshot_meta(base, "system_id"), "the base backup's system id"), segment_size);
  const int64_t timeout = run.component.catch_up_timeout_s;
  const double began = clock_now_s(), deadline = began + double(timeout);
  double moved_at = began;
  StandbyLook last;
  std::string trouble;  // the last failure to ask the standby, for the timeout's message
  while (true) {
    ctx.cancel.check("failover drill (waiting for the standby to catch up)");
    try {
      StandbyLook now = look(sb.conninfo);
      if (now.replay != last.replay) moved_at = clock_now_s();
      last = now;
      trouble.clear();
      if (!now.in_recovery)
        throw Error(ErrorKind::Generic, "catch-up: the standby on " + sb.data_dir +
                                            " left recovery before the drill promoted it (a trigger file or another "
                                            "pg_ctl promote?): the failover cannot be measured");
      const std::string why =
          caught_up({now.replay, now.waiting_for_wal, clock_now_s() - moved_at}, newest.segno, segment_size, retry_s);
      if (!why.empty())
        return "replayed to " + format_lsn(now.replay) +
               (newest.segno ? ", through the archive's newest segment " + newest.name : "") + " (" + why + "), in " +
               secs(clock_now_s() - began);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Unreachable && e.kind() != ErrorKind::Auth) throw;
      // A standby that stopped (a segment it could not fetch, a crash) is not waited for.
      if (!running_pg_server(sb.data_dir))
        throw Error(ErrorKind::Unreachable, "catch-up: the standby on " + sb.data_dir +
                                                " stopped while replaying archived WAL: see its log, " + sb.data_dir +
                                                "/arca-server.log");
      trouble = e.what();
    }
    if (clock_now_s() > deadline)
      throw Error(ErrorKind::Generic,
                  "catch-up: the standby on " + sb.data_dir + " did not replay all the archived WAL within " +
                      std::to_string(timeout) + " s (failover.catch-up-timeout): it replayed to " +
                      (last.replay ? format_lsn(last.replay) : std::string("nothing")) +
                      (newest.segno ? "; the archive's newest segment is " + newest.name : "") +
                      (trouble.empty() ? "" : "; asking it failed: " + trouble) +
                      ". A gap in the archive stops replay before it ('arca pg check' finds one); else give a "
                      "longer catch-up-timeout");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// The scratch standby's own server, as pg verify runs one: its socket only (in Arca's private
// run directory), trust over that socket, no TCP, no archiving, and no synchronous standbys for
// the promoted server to wait for.
void start_scratch_standby(PgServer& server, const std::string& scratch, const std::string& data_dir,
                           const std::string& restore_command) {
  struct stat st;
  if (stat(data_dir.c_str(), &st) != 0) throw_errno("stat", data_dir, errno);
  auto own = [&](const std::string& file) {
    if (geteuid() == 0 && lchown(file.c_str(), st.st_uid, st.st_gid) != 0) throw_errno("chown", file, errno);
  };
  auto write_new = [&](const std::string& file, const std::string& text) {
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) throw_errno("create", file, errno);
    const bool ok = ::write(fd, text.data(), text.size()) == ssize_t(text.size());
    ::close(fd);
    if (!ok) throw Error(ErrorKind::Io, "cannot write " + file);
    own(file);
  };
  const std::string hba = scratch + "/pg_hba.conf";
  write_new(hba, "local all all trust\n");
  // Clusters that keep their configuration outside the data directory (Debian's /etc/postgresql)
  // back up none: the server starts on defaults.
  struct stat conf;
  if (lstat((data_dir + "/postgresql.conf").c_str(), &conf) != 0)
    write_new(data_dir + "/postgresql.conf", "# written by arca drill: the backup had no postgresql.conf\n");
  server.start(free_port(), {"listen_addresses=", "hba_file=" + hba, "archive_mode=off", "synchronous_standby_names="},
               1800, restore_command, true);
}

}  // namespace

std::string caught_up(const CatchUpPoll& p, std::optional<uint64_t> newest_segno, uint64_t segment_size,
                      double retry_s) {
  // replay - 1: a segment that ends in a switch record is replayed to the next one's first byte.
  if (newest_segno && (p.replay == 0 || wal_segno(p.replay - 1, segment_size) < *newest_segno)) return "";
  if (p.waiting_for_wal) return "then it asked for the next segment, which no source has";
  if (p.idle_s > 2 * retry_s)
    return "then its replay stood still for " + secs(p.idle_s) + ", over two restore_command retries";
  return "";
}

void postgres_failover_component(const ComponentRun& run, ComponentResult& r, JobContext& ctx) {
  const ComponentSpec& c = run.component;
  const Target& t = c.target;
  // Checked again here (check_targets ran before the drill): never over data, production or not.
  if (t.given)
    if (auto why = target_problem(t.data_dir); !why.empty())
      throw Error(ErrorKind::Refused, "data directory " + t.data_dir + " " + why);
  struct Scratch {  // removed when the component ends (after the server below has stopped)
    std::string path;
    ~Scratch() {
      std::error_code ec;
      if (!path.empty()) std::filesystem::remove_all(path, ec);
    }
  } scratch;
  if (!t.given) scratch.path = make_scratch(scratch_parent(run.spec), run.spec.name, c.name);

  ops::PgRestoreRequest req = pg_restore_request(run, t.given ? t.data_dir : scratch.path + "/data");
  if (!t.given) req.options.tablespace_map_all = scratch.path + "/tablespaces";  // never where the primary has them
  req.options.standby = true;  // standby.signal, no recovery target, hot standby
  req.start = t.given;  // a target starts as `pg restore --standby --start` does; scratch below
  req.port = t.port;
  std::unique_ptr<Repository> repo;
  const Snapshot base = locate_pg_base(run, r, req, true, repo);

  std::optional<PgServer> server;  // scratch only; stopped before the scratch directory goes
  Standby sb;
  sb.data_dir = std::filesystem::absolute(req.options.target_dir).string();
  if (t.given) {
    const double began = clock_now_s() - run.drill_start;
    ops::PgRestoreOpResult res = ops::pg_restore(*repo, base, req, ctx);
    r.phases.push_back({"restore", began, began + res.restore.restore_s});
    r.phases.push_back({"start", began + res.restore.restore_s, clock_now_s() - run.drill_start});
    sb.socket_dir = res.socket_dir;
    sb.port = res.port;
  } else {
    {
      PhaseTimer timer(r, run.drill_start, "restore");
      ops::pg_restore(*repo, base, req, ctx);
    }
    PhaseTimer timer(r, run.drill_start, "start");
    server.emplace(find_pg_bin(backup_major_version(base), ""), sb.data_dir);
    server->set_cancel(&ctx.cancel);
    start_scratch_standby(*server, scratch.path, sb.data_dir, req.options.restore_command);
    sb.socket_dir = server->run_dir();
    sb.port = server->port();
  }
  sb.conninfo = standby_conninfo(sb.socket_dir, sb.port, sb.data_dir);

  {
    PhaseTimer timer(r, run.drill_start, "catch-up");
    r.checks.push_back({"caught up", true, false, catch_up(run, *repo, base, sb, ctx)});
  }
  ops::PgPromoteResult promoted;
  const double failover_began = clock_now_s();
  {
    PhaseTimer timer(r, run.drill_start, "promote");
    ops::PgPromoteRequest preq;
    preq.server = {sb.data_dir, sb.conninfo};
    preq.timeout_s = 120;
    promoted = ops::pg_promote(preq, ctx);
  }
  std::string detail = "in " + secs(promoted.promote_s) + "; last replayed WAL " +
                       (promoted.after.replay_lsn.empty() ? "unknown" : promoted.after.replay_lsn) +
                       ", last commit replayed " +
                       (promoted.after.last_commit_time.empty() ? "none (RPO from the base backup's end)"
                                                                : promoted.after.last_commit_time);
  // A scratch server archives nothing on purpose; a target's operator must hear that it does not.
  if (t.given)
    for (const auto& w : promoted.warnings) detail += "; " + w;
  r.checks.push_back({"promoted", true, false, detail});
  if (t.given)
    r.checks.push_back({"target", true, false,
                        "running on port " + std::to_string(sb.port) + " (socket in " + sb.socket_dir +
                            "), data directory " + sb.data_dir + ", promoted; left running: stop it with pg_ctl -D " +
                            sb.data_dir + " stop"});

  {
    PhaseTimer timer(r, run.drill_start, "validate");
    // Promotion ended recovery; the new primary must also take writes (without writing anything).
    CheckResult rw{"read-write", false, false, ""};
    try {
      PgConn conn(sb.conninfo, PgConn::Mode::Normal);
      const std::string v =
          conn.value("SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off'",
                     "whether the promoted server takes writes");
      rw.passed = v == "t";
      rw.detail = rw.passed ? "out of recovery, transactions read-write"
                            : "still read-only after promotion (default_transaction_read_only?)";
    } catch (const Error& e) {
      rw.detail = e.what();
    }
    r.checks.push_back(std::move(rw));
    run_sql_checks(c.sql, sb.conninfo, r);
  }
  r.failover_s = clock_now_s() - failover_began;
  // RPO: the last commit the standby replayed, else (none since the backup) the backup's end.
  r.newest_data = parse_time(base.time);
  if (promoted.after.last_commit_unix > 0) r.newest_data = promoted.after.last_commit_unix;
}

}  // namespace arca::drill
