#include "cli/pg_common.h"

#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <iostream>

#include "ops/pg_wal.h"
#include "repo/config.h"
#include "repo/wal_names.h"
#include "util/clock.h"
#include "util/error.h"

namespace arca {

void add_conn_option(CLI::App& cmd, std::string& conninfo) {
  cmd.add_option("-d,--conn", conninfo,
                 "PostgreSQL connection: a libpq connection string ('host=db1 port=5432 user=backup') or URI "
                 "(postgresql://backup@db1:5432); unset parts come from PGHOST, PGPORT, PGUSER, PGPASSWORD, ~/.pgpass");
}

void add_target_options(CLI::App& cmd, TargetArgs& t, bool with_action) {
  cmd.add_option("--time", t.time, "Recover to this time, with zone: '2026-11-25 14:30:00+00'");
  cmd.add_option("--lsn", t.lsn, "Recover to this WAL position (e.g. 0/3000060)");
  cmd.add_option("--xid", t.xid, "Recover to this transaction id");
  cmd.add_option("--restore-point", t.name, "Recover to this named restore point (pg_create_restore_point)");
  cmd.add_option("--target", t.target,
                 "'latest' (replay all archived WAL) or 'immediate' (stop as soon as the backup is consistent)");
  cmd.add_flag("--exclusive", t.exclusive, "Stop just before the target instead of just after it");
  if (with_action) cmd.add_option("--action", t.action, "At the target: promote (default), pause or shutdown");
}

RecoveryTarget parse_target(const TargetArgs& a, RecoveryTarget::Kind fallback) {
  RecoveryTarget t;
  t.kind = fallback;
  int n = !a.time.empty() + !a.lsn.empty() + !a.xid.empty() + !a.name.empty() + !a.target.empty();
  if (n > 1)
    throw Error(ErrorKind::Usage, "give one recovery target: --time, --lsn, --xid, --restore-point or --target");
  if (!a.time.empty()) t = RecoveryTarget::of(RecoveryTarget::Kind::Time, a.time);
  if (!a.lsn.empty()) {
    parse_lsn(a.lsn);
    t = RecoveryTarget::of(RecoveryTarget::Kind::Lsn, a.lsn);
  }
  if (!a.xid.empty()) {
    if (a.xid.find_first_not_of("0123456789") != std::string::npos)
      throw Error(ErrorKind::Usage, "--xid " + a.xid + ": expected a transaction id (a number)");
    t = RecoveryTarget::of(RecoveryTarget::Kind::Xid, a.xid);
  }
  if (!a.name.empty()) t = RecoveryTarget::of(RecoveryTarget::Kind::Name, a.name);
  if (a.target == "immediate")
    t.kind = RecoveryTarget::Kind::Immediate;
  else if (a.target == "latest")
    t.kind = RecoveryTarget::Kind::Latest;
  else if (!a.target.empty())
    throw Error(ErrorKind::Usage,
                "--target " + a.target + ": expected 'latest' or 'immediate'" +
                    (parse_time(a.target) ? "; to recover to that time use --time '" + a.target + "'"
                                          : "; for a time, WAL position, transaction or named restore point "
                                            "use --time, --lsn, --xid or --restore-point"));
  // pgBackRest habit: a restore asks nothing, so a target after now is a warning, not a question.
  // No WAL reaches it: recovery replays the whole archive, and PostgreSQL 13 and later then stop
  // with "recovery ended before configured recovery target was reached".
  if (auto when = parse_time(a.time); when && *when > double(time(nullptr)))
    std::cerr << "warning: --time " << a.time << " is ahead of this machine's clock (now " << now_rfc3339()
              << "): recovery replays to the end of the archive and PostgreSQL 13 and later then refuse to finish "
                 "('recovery ended before configured recovery target was reached'); to replay everything archived use "
                 "--target latest\n";
  t.inclusive = !a.exclusive;
  if (a.action != "promote" && a.action != "pause" && a.action != "shutdown")
    throw Error(ErrorKind::Usage, "--action " + a.action + ": expected promote, pause or shutdown");
  t.action = a.action;
  return t;
}

std::string wal_fetch_command(const GlobalOptions& g, const std::string& system_id, std::string& note, bool quiet) {
  ops::WalFetchCommand c;
  c.repository = repo_location(g);
  c.key_file = g.key_file;
  c.password_file = g.password_file;
  if (c.key_file.empty())
    if (const char* e = std::getenv("ARCA_KEY_FILE")) c.key_file = e;
  if (c.password_file.empty())
    if (const char* e = std::getenv("ARCA_PASSWORD_FILE")) c.password_file = e;
  if (c.key_file.empty() && c.password_file.empty()) {
    if (!std::getenv("ARCA_PASSWORD")) return "";
    note =
        "the restore_command reads the password from ARCA_PASSWORD: a server started later needs it in its "
        "environment (or restore with --password-file)";
  }
  c.options = g.options;
  c.system_id = system_id;
  c.quiet = quiet;
  return ops::wal_fetch_command(c);
}

}  // namespace arca
