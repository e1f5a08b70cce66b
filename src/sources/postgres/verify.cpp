#include "sources/postgres/verify.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sources/postgres/checks_file.h"
#include "sources/postgres/cluster_restore.h"
#include "sources/postgres/cluster_safety.h"
#include "sources/postgres/pg_conn.h"
#include "sources/postgres/pg_server.h"
#include "sources/postgres/row_counts.h"
#include "util/cancel.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/net.h"
#include "util/subprocess.h"

namespace arca {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

bool PgVerifyResult::passed() const {
  for (const auto& c : checks)
    if (!c.passed) return false;
  return true;
}

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

class Verifier {
 public:
  Verifier(const std::string& conninfo, PgVerifyResult& res, const PgVerifyOptions& opts)
      : conninfo_(conninfo), res_(res), opts_(opts) {}

  void run(const Snapshot& snap, const std::vector<UserCheck>& user_checks, bool at_backup_point) {
    std::vector<std::string> dbs = pg_list_databases(conninfo_);
    json counts =
        snap.metadata.contains("row_counts") && at_backup_point ? snap.metadata["row_counts"]["value"] : json();
    // Between checks the cancel token is looked at; the scratch server is stopped and the scratch
    // directory removed by their owners' destructors on the way out.
    for (const auto& db : dbs) {
      check_cancel(opts_.cancel, "PostgreSQL verify");
      PgConn c(pg_conninfo_with(conninfo_, "dbname", db), PgConn::Mode::Normal);
      if (counts.is_object()) row_counts(c, db, counts.contains(db) ? counts[db] : json::array());
      check_cancel(opts_.cancel, "PostgreSQL verify");
      foreign_keys(c, db);
      check_cancel(opts_.cancel, "PostgreSQL verify");
      primary_keys(c, db);
      check_cancel(opts_.cancel, "PostgreSQL verify");
      amcheck(c, db);
    }
    if (!counts.is_object())
      res_.checks.push_back({"row counts", "", true, true,
                             at_backup_point ? "no counts were recorded with this backup"
                                             : "counts are recorded for the base backup's own point, not this target"});
    for (const auto& u : user_checks) {
      check_cancel(opts_.cancel, "PostgreSQL verify");
      user_check(u);
    }
  }

 private:
  void add(const std::string& name, const std::string& db, const std::string& problem, const std::string& ok_detail) {
    res_.checks.push_back({name, db, problem.empty(), false, problem.empty() ? ok_detail : problem});
  }

  void row_counts(PgConn& c, const std::string& db, const json& tables) {
    int checked = 0;
    std::string problems;
    for (const auto& t : tables) {
      check_cancel(opts_.cancel, "PostgreSQL verify");
      std::string schema = t.at("schema"), table = t.at("table");
      int64_t want = t.at("rows"), tol = t.value("tolerance", int64_t(0));
      PgResult q = c.exec_params("SELECT format('SELECT count(*) FROM ONLY %I.%I', $1::text, $2::text)",
                                 {schema, table}, "quoting a table name");
      int64_t got;
      try {
        got = std::stoll(c.value(PQgetvalue(q.get(), 0, 0), "counting " + schema + "." + table));
      } catch (const Error& e) {
        problems += "\n    " + schema + "." + table + ": " + e.what();
        continue;
      }
      checked++;
      if (std::string m = count_mismatch(got, want, tol); !m.empty())
        problems += "\n    " + schema + "." + table + ": " + m;
    }
    add("row counts", db, problems.empty() ? "" : "row counts differ:" + problems,
        std::to_string(checked) + " tables match the counts recorded at backup time");
  }

  void foreign_keys(PgConn& c, const std::string& db) {
    PgResult fks = c.exec(
        "SELECT c.conname, c.conrelid::regclass::text, c.confrelid::regclass::text, "
        "  (SELECT string_agg(quote_ident(a.attname), ',' ORDER BY k.n) FROM unnest(c.conkey) WITH ORDINALITY k(att, "
        "n) "
        "     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.att), "
        "  (SELECT string_agg(quote_ident(a.attname), ',' ORDER BY k.n) FROM unnest(c.confkey) WITH ORDINALITY k(att, "
        "n) "
        "     JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.att), "
        "  (SELECT relkind FROM pg_class WHERE oid = c.confrelid) "
        "FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid WHERE c.contype = 'f' AND r.relkind = 'r' ORDER BY "
        "1",
        "listing foreign keys in " + db);
    std::string problems;
    int n = PQntuples(fks.get());
    for (int i = 0; i < n; i++) {
      std::string name = PQgetvalue(fks.get(), i, 0), child = PQgetvalue(fks.get(), i, 1),
                  parent = PQgetvalue(fks.get(), i, 2), ccols = PQgetvalue(fks.get(), i, 3),
                  pcols = PQgetvalue(fks.get(), i, 4), pkind = PQgetvalue(fks.get(), i, 5);
      std::vector<std::string> cc, pc;
      std::stringstream a(ccols), b(pcols);
      for (std::string x; std::getline(a, x, ',');) cc.push_back(x);
      for (std::string x; std::getline(b, x, ',');) pc.push_back(x);
      std::string notnull, match;
      for (size_t k = 0; k < cc.size() && k < pc.size(); k++) {
        notnull += " AND t." + cc[k] + " IS NOT NULL";
        match += std::string(k ? " AND " : "") + "p." + pc[k] + " = t." + cc[k];
      }
      std::string sql = "SELECT count(*) FROM ONLY " + child + " t WHERE true" + notnull +
                        " AND NOT EXISTS (SELECT 1 FROM " + (pkind == "p" ? "" : "ONLY ") + parent + " p WHERE " +
                        match + ")";
      try {
        std::string orphans = c.value(sql, "checking foreign key " + name);
        if (orphans != "0")
          problems += "\n    " + child + " has " + orphans + " row(s) whose (" + ccols + ") match no row of " + parent +
                      " (constraint " + name + ")";
      } catch (const Error& e) {
        problems += "\n    " + name + ": " + e.what();
      }
    }
    add("foreign keys", db, problems.empty() ? "" : "orphaned rows:" + problems,
        std::to_string(n) + " foreign keys, no orphaned rows");
  }

  void primary_keys(PgConn& c, const std::string& db) {
    PgResult pks = c.exec(
        "SELECT c.conrelid::regclass::text, (SELECT string_agg(quote_ident(a.attname) || ' IS NULL', ' OR ') "
        "  FROM unnest(c.conkey) k(att) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.att) "
        "FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid WHERE c.contype = 'p' AND r.relkind = 'r' "
        "AND r.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace) ORDER BY 1",
        "listing primary keys in " + db);
    std::string problems;
    int n = PQntuples(pks.get());
    for (int i = 0; i < n; i++) {
      std::string table = PQgetvalue(pks.get(), i, 0), cond = PQgetvalue(pks.get(), i, 1);
      try {
        std::string nulls = c.value("SELECT count(*) FROM ONLY " + table + " WHERE " + cond, "checking " + table);
        if (nulls != "0") problems += "\n    " + table + ": " + nulls + " row(s) with a NULL primary key";
      } catch (const Error& e) {
        problems += "\n    " + table + ": " + e.what();
      }
    }
    add("primary keys", db, problems.empty() ? "" : "NULL primary keys:" + problems,
        std::to_string(n) + " primary keys, no NULLs");
  }

  void amcheck(PgConn& c, const std::string& db) {
    if (c.value("SELECT count(*) FROM pg_available_extensions WHERE name = 'amcheck'", "looking for amcheck") == "0") {
      res_.checks.push_back({"indexes (amcheck)", db, true, true, "the amcheck extension is not installed here"});
      return;
    }
    // The scratch copy is thrown away, so installing the extension in it changes nothing that lasts.
    c.exec("CREATE EXTENSION IF NOT EXISTS amcheck", "installing amcheck in the scratch copy of " + db);
    PgResult idx = c.exec(
        "SELECT c.oid, c.oid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_am am ON am.oid = c.relam WHERE am.amname = 'btree' AND i.indisvalid AND i.indisready "
        "AND c.relpersistence <> 't' ORDER BY 2",
        "listing indexes in " + db);
    std::string problems;
    int n = PQntuples(idx.get());
    for (int i = 0; i < n; i++) {
      std::string oid = PQgetvalue(idx.get(), i, 0), name = PQgetvalue(idx.get(), i, 1);
      try {
        c.exec_params(std::string("SELECT bt_index_check($1::regclass, ") + (opts_.thorough ? "true" : "false") + ")",
                      {oid}, "checking index " + name);
      } catch (const Error& e) {
        problems += "\n    " + std::string(e.what());
      }
    }
    add("indexes (amcheck)", db, problems.empty() ? "" : "damaged indexes:" + problems,
        std::to_string(n) + " B-tree indexes are consistent");
  }

  void user_check(const UserCheck& u) {
    try {
      PgConn c(pg_conninfo_with(conninfo_, "dbname", u.database), PgConn::Mode::Normal);
      PgResult r = c.exec(u.sql, "check '" + u.name + "'");
      std::optional<std::string> first;
      if (PQntuples(r.get()) > 0 && PQnfields(r.get()) > 0)
        first = PQgetisnull(r.get(), 0, 0) ? "NULL" : PQgetvalue(r.get(), 0, 0);
      std::string problem = judge_expectation(u.expect, PQntuples(r.get()), first);
      add(u.name, u.database, problem, "expectation '" + u.expect + "' holds");
    } catch (const Error& e) {
      add(u.name, u.database, e.what(), "");
    }
  }

  std::string conninfo_;
  PgVerifyResult& res_;
  const PgVerifyOptions& opts_;
};

}  // namespace

PgVerifyResult pg_verify(Repository& repo, const PgVerifyOptions& opts, ProgressCounters& progress) {
  PgVerifyResult res;
  PgRestoreOptions ro;
  if (opts.snapshot != "latest") ro.snapshot = opts.snapshot;
  ro.source_name = opts.source_name;
  // Immediate: crash recovery with the WAL inside the backup, no archive needed.
  bool pitr = opts.target.kind != RecoveryTarget::Kind::Immediate;
  ro.target = opts.target;
  if (pitr) {
    if (opts.restore_command.empty())
      throw Error(ErrorKind::Usage, "verifying a restore to " + opts.target.describe() +
                                        " replays archived WAL: pass --password-file or --key-file so that the scratch "
                                        "server's restore_command can open the repository");
    ro.restore_command = opts.restore_command;
    ro.target.action = "promote";
  }
  ro.archive_off = true;
  ro.owner = opts.owner;
  ro.threads = opts.threads;
  ro.cancel = opts.cancel;
  // Problems that need no restore to find come first.
  std::vector<UserCheck> user_checks;
  if (!opts.checks_file.empty()) user_checks = parse_checks(opts.checks_file);
  Snapshot snap = choose_base_backup(repo, ro);
  res.snapshot = snap;
  ro.snapshot = snap.id.hex();
  std::string bin = find_pg_bin(backup_major_version(snap), opts.pg_bin);

  // What a killed verify or drill left: run directories with the repository's credentials.
  remove_stale_pg_run_dirs("");
  std::string parent = opts.scratch_parent;
  if (parent.empty()) parent = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
  std::string tmpl = parent + "/arca-verify-XXXXXX";
  if (!mkdtemp(tmpl.data())) throw_errno("create a scratch directory in", parent, errno);
  std::string scratch = tmpl;
  struct Cleanup {
    std::string dir;
    bool keep;
    ~Cleanup() {
      std::error_code ec;
      if (!keep) std::filesystem::remove_all(dir, ec);
    }
  } cleanup{scratch, opts.keep};
  chmod(scratch.c_str(), 0711);  // the server's user must reach its directories inside
  ro.target_dir = scratch + "/data";
  // Tablespaces go inside the scratch directory too, never to the locations the server had.
  ro.tablespace_map_all = scratch + "/tablespaces";

  auto t0 = Clock::now();
  pg_restore_cluster(repo, ro, progress);
  res.restore_s = seconds_since(t0);
  // Clusters that keep their configuration outside the data directory (Debian's
  // /etc/postgresql) back up none: the scratch server runs on defaults and the settings below.
  std::string conf = ro.target_dir + "/postgresql.conf";
  UniqueFd data_fd = open_directory(ro.target_dir);  // never written through a symlink (docs/security.md)
  bool own_conf = faccessat(data_fd.get(), "postgresql.conf", F_OK, AT_SYMLINK_NOFOLLOW) != 0;
  if (own_conf)
    write_file_beneath(data_fd.get(), "postgresql.conf",
                       "# written by arca pg verify: the backup had no postgresql.conf\n", conf, nullptr);

  // A private socket directory and trust authentication only over that socket; no TCP at all.
  struct stat st;
  if (stat(ro.target_dir.c_str(), &st) != 0) throw_errno("stat", ro.target_dir, errno);
  // A Unix socket path holds at most 107 bytes ("<dir>/.s.PGSQL.<port>"): a deep scratch
  // directory (a drill's, or --scratch) gets its socket in a short private directory instead.
  std::string sock = scratch + "/socket";
  struct ShortSocketDir {
    std::string path;
    ~ShortSocketDir() {
      std::error_code ec;
      if (!path.empty()) std::filesystem::remove_all(path, ec);
    }
  } short_sock;
  if (sock.size() + std::strlen("/.s.PGSQL.65535") > 107) {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp && std::strlen(tmp) < 60 ? tmp : "/tmp") + "/arca-pgsock-XXXXXX";
    if (!mkdtemp(tmpl.data())) throw_errno("mkdtemp", tmpl, errno);
    sock = short_sock.path = tmpl;
  } else if (mkdir(sock.c_str(), 0700) != 0) {
    throw_errno("mkdir", sock, errno);
  }
  std::string hba = scratch + "/pg_hba.conf";
  {
    std::ofstream h(hba);
    h << "local all all trust\n";
  }
  if (geteuid() == 0) {
    if (chown(sock.c_str(), st.st_uid, st.st_gid) != 0 || chown(hba.c_str(), st.st_uid, st.st_gid) != 0 ||
        (own_conf && lchown(conf.c_str(), st.st_uid, st.st_gid) != 0))
      throw_errno("chown", sock, errno);
  }
  int port = free_port();
  check_cancel(opts.cancel, "PostgreSQL verify");
  PgServer server(bin, ro.target_dir);
  server.set_cancel(opts.cancel);
  auto t1 = Clock::now();
  // max_wal_senders stays as backed up: archive recovery (a point-in-time verify) refuses to
  // start with a lower value than the primary had; no TCP and a private socket keep it unreachable.
  server.start(port,
               {"listen_addresses=", "unix_socket_directories=" + sock, "hba_file=" + hba, "archive_mode=off",
                "synchronous_standby_names="},
               opts.start_timeout, ro.restore_command, true);
  if (pitr) server.wait_promoted(opts.start_timeout);
  res.start_s = seconds_since(t1);

  std::string user = opts.owner;
  if (user.empty()) {
    passwd* pw = getpwuid(st.st_uid);
    user = pw ? pw->pw_name : "postgres";
  }
  std::string conninfo = "host=" + sock + " port=" + std::to_string(port) + " user=" + user + " dbname=postgres";
  auto t2 = Clock::now();
  Verifier(conninfo, res, opts).run(snap, user_checks, !pitr);
  // The recovery point's age: for a replayed target, the newest transaction it replayed.
  std::optional<double> newest;
  if (pitr) {
    PgConn c(conninfo, PgConn::Mode::Normal);
    std::string ts =
        c.value("SELECT extract(epoch FROM pg_last_xact_replay_timestamp())", "reading the replay position");
    if (!ts.empty()) newest = std::stod(ts);
  }
  server.stop();
  if (snapshot_meta(snap, "data_checksums") == "true") {
    std::string tool = bin + "/pg_checksums";
    if (access(tool.c_str(), X_OK) == 0) {
      auto [rc, out] = run_program(server.as_owner({tool, "--check", "-D", ro.target_dir}), {}, ChildEnv::NoSecrets,
                                   opts.cancel, "PostgreSQL verify");
      res.checks.push_back({"data checksums", "", rc == 0, false, rc == 0 ? "every page's checksum is valid" : out});
    } else {
      res.checks.push_back({"data checksums", "", true, true, "not checked: " + tool + " is not installed"});
    }
  } else {
    res.checks.push_back({"data checksums", "", true, true, "data checksums are off in this cluster"});
  }
  res.checks_s = seconds_since(t2);
  if (!newest) newest = parse_time(snapshot_meta(snap, "stop_time"));
  if (newest) {
    res.newest_data_time = *newest;
    timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    res.recovery_point_age_s = double(now.tv_sec) + now.tv_nsec / 1e9 - *newest;
  }
  if (opts.keep) res.scratch = scratch;
  return res;
}

}  // namespace arca
