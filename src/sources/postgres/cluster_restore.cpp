#include "sources/postgres/cluster_restore.h"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "repo/future_points.h"
#include "repo/wal_names.h"
#include "restore/restore.h"
#include "sources/postgres/cluster_safety.h"
#include "sources/postgres/server_confinement.h"
#include "sources/postgres/tablespace_map.h"
#include "util/beneath.h"
#include "util/cancel.h"
#include "util/clock.h"
#include "util/error.h"

namespace arca {

std::string snapshot_meta(const Snapshot& s, const std::string& key) {
  if (!s.metadata.contains(key)) return "";
  const auto& v = s.metadata[key]["value"];
  return v.is_string() ? v.get<std::string>() : v.dump();
}

int backup_major_version(const Snapshot& s) {
  std::string v = snapshot_meta(s, "server_version_num");
  return v.empty() ? 0 : std::stoi(v) / 10000;
}

std::string RecoveryTarget::describe() const {
  switch (kind) {
    case Kind::Latest:
      return "the end of the archived WAL";
    case Kind::Immediate:
      return "the end of the base backup (first consistent point)";
    case Kind::Time:
      return "time " + value;
    case Kind::Lsn:
      return "WAL position " + value;
    case Kind::Xid:
      return "transaction " + value;
    case Kind::Name:
      return "restore point '" + value + "'";
  }
  return "?";
}

Snapshot choose_base_backup(const Repository& repo, const PgRestoreOptions& opts) {
  if (opts.snapshot) {
    Snapshot s = repo.find_snapshot(*opts.snapshot);
    if (s.source_kind != "postgres")
      throw Error(ErrorKind::Usage,
                  "snapshot " + s.id.short_hex() + " is a " + s.source_kind + " backup, not a PostgreSQL base backup");
    return s;
  }
  std::vector<Snapshot> all;
  int64_t now = clock_now();
  for (auto& s : repo.list_snapshots())
    if (s.source_kind == "postgres" && !s.partial && (opts.source_name.empty() || s.source_name == opts.source_name)) {
      // Never chosen without its id: a planted point would be restored (see docs/security.md).
      if (std::string why = future_dated(s, now); !why.empty()) {
        repo.warning("skipped base backup " + s.id.short_hex() + ": it is future-dated (" + why +
                     "); give its id to use it anyway");
        continue;
      }
      all.push_back(std::move(s));
    }
  if (all.empty())
    throw Error(ErrorKind::NotFound, "the repository has no PostgreSQL base backups" +
                                         (opts.source_name.empty() ? std::string() : " of '" + opts.source_name + "'") +
                                         " (see 'arca snapshots')");
  // Several clusters in one repository: choosing among all of them would restore (or verify)
  // whichever happened to back up last.
  std::set<std::string> sources;
  for (const auto& s : all) sources.insert(s.source_name);
  if (sources.size() > 1) {
    std::string list;
    for (const auto& n : sources) list += (list.empty() ? "" : ", ") + n;
    throw Error(ErrorKind::Usage,
                "the repository holds base backups of several clusters (" + list + "): choose one with --source NAME");
  }
  const auto& t = opts.target;
  if (t.kind == RecoveryTarget::Kind::Time) {
    auto when = parse_time(t.value);
    if (!when)
      throw Error(ErrorKind::Usage,
                  "recovery target time '" + t.value +
                      "' is not understood: write it like 2026-11-25 14:30:00+00 (the zone is required)");
    const Snapshot* best = nullptr;
    for (const auto& s : all) {
      auto stop = parse_time(snapshot_meta(s, "stop_time"));
      if (stop && *stop <= *when) best = &s;
    }
    if (!best)
      throw Error(ErrorKind::NotFound, "recovery target time " + t.value +
                                           " is before the oldest base backup in the repository, which is consistent "
                                           "from " +
                                           snapshot_meta(all.front(), "stop_time") +
                                           "; the repository cannot recover to an earlier time");
    return *best;
  }
  if (t.kind == RecoveryTarget::Kind::Lsn) {
    Lsn want = parse_lsn(t.value);
    const Snapshot* best = nullptr;
    for (const auto& s : all)
      if (parse_lsn(snapshot_meta(s, "stop_lsn")) <= want) best = &s;
    if (!best)
      throw Error(ErrorKind::NotFound, "recovery target WAL position " + t.value +
                                           " is before the end of the oldest base backup (" +
                                           snapshot_meta(all.front(), "stop_lsn") + ")");
    return *best;
  }
  return all.back();  // latest, immediate, xid, name: the newest base backup
}

static void refuse_running_server(const std::string& dir) {
  std::ifstream pidf(dir + "/postmaster.pid");
  long pid = 0;
  if (pidf >> pid && pid > 0 && (kill(pid_t(pid), 0) == 0 || errno == EPERM))
    throw Error(ErrorKind::Usage, "a PostgreSQL server (pid " + std::to_string(pid) + ") is running on " + dir +
                                      ": stop it before restoring into its data directory");
}

// The data directory of a running PostgreSQL server on this machine whose tablespace links
// point at `loc` (a postmaster's working directory is its data directory).
static std::optional<std::string> running_server_using(const std::string& loc) {
  std::error_code ec;
  auto canon = std::filesystem::weakly_canonical(loc, ec);
  for (const auto& p : std::filesystem::directory_iterator("/proc", ec)) {
    std::string pid = p.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream comm(p.path() / "comm");
    std::string name;
    if (!(comm >> name) || (name != "postgres" && name != "postmaster")) continue;
    std::error_code e2;
    auto datadir = std::filesystem::read_symlink(p.path() / "cwd", e2);
    if (e2) continue;
    for (const auto& link : std::filesystem::directory_iterator(datadir / "pg_tblspc", e2))
      if (std::filesystem::weakly_canonical(link.path(), e2) == canon) return datadir.string();
  }
  return std::nullopt;
}

// Before anything is written: never a system directory or the repository, and --delta (which
// removes what the backup lacks) only on a previous restore (see docs/security.md).
static void check_target_dir(const Repository& repo, const std::string& dir, bool delta, RestoreTargetKind kind,
                             const std::string& what) {
  std::string loc = repo.backend().location();
  bool local = loc.find("://") == std::string::npos && loc.rfind("s3:", 0) != 0;
  check_restore_target(dir, delta, kind, what, local ? loc : "");
  if (delta) refuse_running_server(dir);
}

// A configuration-file string: quotes doubled and backslashes escaped, as ALTER SYSTEM writes them.
static std::string conf_quote(const std::string& v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out += c;
    out += c;
  }
  return out + "'";
}

// A delta restore removes extra entries inside restored directories; the top level (where a
// previous restore left recovery.signal, logs or a postmaster.pid) is cleaned here.
static void remove_extra_top_entries(Repository& repo, const Id& tree, const std::string& dir) {
  std::set<std::string> keep;
  for (const auto& n : repo.load_tree(tree).nodes) keep.insert(n.name);
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (keep.count(e.path().filename().string())) continue;
    std::filesystem::remove_all(e.path(), ec);
    if (ec) throw Error(ErrorKind::Io, "cannot remove " + e.path().string() + ": " + ec.message());
  }
}

// `clean_top`: for the data directory only; a tablespace location may hold other clusters'
// (other major versions') directories, which are not ours to remove.
static RestoreResult restore_subtree(Repository& repo, const Snapshot& snap, const Id& tree, const std::string& dir,
                                     bool delta, bool clean_top, unsigned threads, ProgressCounters& progress,
                                     const CancelToken* cancel) {
  check_cancel(cancel, "PostgreSQL restore");
  if (delta && clean_top) remove_extra_top_entries(repo, tree, dir);
  Snapshot part = snap;
  part.tree = tree;
  RestoreOptions ro;
  ro.target = dir;
  ro.delete_extra = delta;
  ro.threads = threads;
  if (cancel) ro.cancel = &cancel->flag();
  RestoreResult r = restore_files(repo, part, ro, progress);
  // Files left unfinished are removed by the restore; no recovery settings are written, so the
  // directory is never taken for a cluster ready to start.
  if (r.interrupted)
    throw Error(ErrorKind::Cancelled, "PostgreSQL restore cancelled: " + std::to_string(r.files) + " files (" +
                                          std::to_string(r.bytes_written) + " bytes) written to " + dir +
                                          ", the cluster is incomplete; run the restore again with --delta");
  if (r.no_space)
    throw Error(ErrorKind::NoSpace,
                "the filesystem of " + dir + " is full; free space and run the restore again with --delta");
  throw_restore_problems(r.errors, dir);
  return r;
}

void throw_restore_problems(const std::vector<RestoreProblem>& problems, const std::string& dir) {
  if (problems.empty()) return;
  const RestoreProblem* damaged = nullptr;
  size_t target = 0;
  for (const auto& p : problems) {
    if (p.source == RestoreProblemSource::Target)
      target++;
    else if (!damaged)
      damaged = &p;
  }
  const std::string incomplete = "\n  the data directory is incomplete and must not be started; ";
  if (damaged)
    throw Error(ErrorKind::Corrupt,
                std::to_string(problems.size() - target) +
                    " file(s) are damaged in the repository and were not restored, first: " + damaged->path + ": " +
                    damaged->message +
                    (target ? "; " + std::to_string(target) + " more could not be written to " + dir : "") +
                    incomplete + "run 'arca check --read-data'");
  // Only the target is at fault (permissions, a read-only filesystem, a name clash): checking the
  // repository would not help, fixing the target and restoring again does.
  throw Error(ErrorKind::Io, std::to_string(target) + " file(s) could not be written to " + dir +
                                 ", first: " + problems[0].path + ": " + problems[0].message + incomplete +
                                 "the repository is not at fault: fix the target (permissions, a read-only filesystem, "
                                 "a name clash) and run the restore again with --delta");
}

// Recovery settings go last in postgresql.auto.conf, which the server reads after
// postgresql.conf, and for a setting given twice the last one wins. A cluster Arca once restored
// carries that restore's block in every later backup: earlier blocks are removed, and every
// recovery target is written (empty if unused) so nothing older can combine with this one.
// Read and written below the data directory's descriptor, never through a symlink.
static void write_recovery_settings(int dirfd, const std::string& dir, const Snapshot& snap,
                                    const PgRestoreOptions& opts, bool recovery, bool archive_off,
                                    const ClusterOwner* owner) {
  static const char* kBegin = "# Added by arca pg restore";
  static const char* kEnd = "# End of arca pg restore settings";
  const std::string shown = dir + "/postgresql.auto.conf";
  std::string kept;
  {
    std::istringstream in(read_file_beneath(dirfd, "postgresql.auto.conf", shown));
    bool skipping = false;
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(kBegin, 0) == 0) skipping = true;
      if (!skipping) kept += line + "\n";
      if (skipping && line == kEnd) skipping = false;
    }
  }
  std::ostringstream out;
  out << kBegin << " at " << now_rfc3339() << " from base backup " << snap.id.hex() << "\n";
  if (archive_off) out << "archive_mode = off\n";
  // The point's commands would run on this host with the server's rights (docs/security.md).
  for (const auto& name : pg_command_settings()) out << name << " = ''\n";
  if (recovery && opts.standby) {
    // No target: the server stays in recovery, retrying restore_command every
    // wal_retrieve_retry_interval (5 s by default) for the next segment, until promoted. The
    // backup's primary_conninfo (a backed-up standby's) is not followed: the repository is the
    // only source. Reads are served meanwhile (hot standby).
    out << "restore_command = " << conf_quote(opts.restore_command) << "\n";
    for (const char* name : {"recovery_target", "recovery_target_time", "recovery_target_lsn", "recovery_target_xid",
                             "recovery_target_name", "primary_conninfo", "primary_slot_name"})
      out << name << " = ''\n";
    out << "recovery_target_timeline = 'latest'\n";
    out << "hot_standby = on\n";
  } else if (recovery) {
    const auto& t = opts.target;
    out << "restore_command = " << conf_quote(opts.restore_command) << "\n";
    // The server refuses a second target once one is set, even an empty one, so the unused
    // targets are reset first and the chosen one comes last.
    const std::pair<RecoveryTarget::Kind, const char*> targets[] = {
        {RecoveryTarget::Kind::Immediate, "recovery_target"},
        {RecoveryTarget::Kind::Time, "recovery_target_time"},
        {RecoveryTarget::Kind::Lsn, "recovery_target_lsn"},
        {RecoveryTarget::Kind::Xid, "recovery_target_xid"},
        {RecoveryTarget::Kind::Name, "recovery_target_name"}};
    for (const auto& [kind, name] : targets)
      if (kind != t.kind) out << name << " = ''\n";
    for (const auto& [kind, name] : targets)
      if (kind == t.kind)
        out << name << " = " << conf_quote(kind == RecoveryTarget::Kind::Immediate ? "immediate" : t.value) << "\n";
    out << "recovery_target_inclusive = " << (t.inclusive ? "on" : "off") << "\n";
    out << "recovery_target_action = " << conf_quote(t.action) << "\n";
    out << "recovery_target_timeline = 'latest'\n";
  }
  out << kEnd << "\n";
  write_file_beneath(dirfd, "postgresql.auto.conf", kept + out.str(), shown, owner);
}

PgRestoreResult pg_restore_cluster(Repository& repo, const PgRestoreOptions& opts, ProgressCounters& progress) {
  auto t0 = std::chrono::steady_clock::now();
  PgRestoreResult res;
  Snapshot snap = choose_base_backup(repo, opts);
  res.snapshot = snap;
  if (opts.target_dir.empty()) throw Error(ErrorKind::Usage, "no data directory given (--to DIR)");
  std::string dir = std::filesystem::absolute(opts.target_dir).lexically_normal().string();
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  check_target_dir(repo, dir, opts.delta, RestoreTargetKind::DataDirectory, "the data directory");
  int major = backup_major_version(snap);
  // "immediate" with a restore_command is archive recovery that stops at the backup's consistent
  // point and promotes to a new timeline, so the copy's WAL never takes names from the original's.
  // Without one (no credentials file), the server replays the WAL inside the backup by crash
  // recovery and stays on the original's timeline: it must then not archive at all.
  bool needs_recovery = opts.target.kind != RecoveryTarget::Kind::Immediate || !opts.restore_command.empty();
  bool archive_off = opts.archive_off || !needs_recovery;
  if (needs_recovery && major < 12)
    throw Error(
        ErrorKind::Usage,
        "recovery targets need PostgreSQL 12 or newer (recovery.signal); this backup is from " + std::to_string(major));
  if (opts.standby && opts.target.kind != RecoveryTarget::Kind::Latest)
    throw Error(ErrorKind::Usage,
                "a standby replays all archived WAL until it is promoted and has no recovery target (" +
                    opts.target.describe() +
                    "): drop --standby, or the target (promote it at the moment you choose with "
                    "'arca pg promote')");
  if (opts.standby && opts.restore_command.empty())
    throw Error(ErrorKind::Usage,
                "a standby fetches WAL from the repository with 'arca pg wal-fetch' as long as it runs: pass "
                "--password-file or --key-file so that it can open the repository on its own");
  if (opts.target.kind != RecoveryTarget::Kind::Immediate && opts.restore_command.empty())
    throw Error(ErrorKind::Usage, "recovering to " + opts.target.describe() +
                                      " needs WAL from the archive, fetched by the restored server with 'arca pg "
                                      "wal-fetch': pass --password-file or --key-file so that it can open the "
                                      "repository on its own (or use --target immediate)");

  Tree root = repo.load_tree(snap.tree);
  std::optional<Id> data_tree, tbs_tree;
  for (const auto& n : root.nodes) {
    if (n.name == "data" && n.subtree) data_tree = n.subtree;
    if (n.name == "tablespaces" && n.subtree) tbs_tree = n.subtree;
  }
  if (!data_tree) throw Error(ErrorKind::Corrupt, "snapshot " + snap.id.short_hex() + " has no data directory");

  // Tablespaces: where each goes, checked before anything is written. The point's recorded
  // locations are used only when the operator says so (see docs/security.md).
  TablespaceChoice choice{opts.tablespace_map, opts.tablespace_map_all, opts.tablespace_map_all_original};
  std::vector<TablespacePlacement> placements = place_tablespaces(snap, choice, dir);
  for (const auto& [oid, loc] : placements) {
    check_target_dir(repo, loc, opts.delta, RestoreTargetKind::TablespaceLocation, "tablespace " + oid + " location");
    if (auto user = running_server_using(loc))
      throw Error(ErrorKind::Usage, "tablespace " + oid + " location " + loc + " is in use by the running server of " +
                                        *user + ": map it elsewhere with --tablespace-map " + oid + "=DIR");
  }
  // Anything a base backup never holds (a symlink at postgresql.auto.conf, a device node) stops
  // the restore here, before the first write.
  std::vector<std::string> oids;
  for (const auto& [oid, loc] : recorded_tablespaces(snap)) oids.push_back(oid);
  check_cluster_tree(repo, snap, *data_tree, tbs_tree, oids);
  // Ownership as root: never the uid/gid the point records (it would choose which local
  // account runs the server it configures); decided before writing anything.
  std::optional<ClusterOwner> owner;
  std::string recorded;
  ClusterModes modes;
  for (const auto& n : repo.load_tree(*data_tree).nodes)
    if (n.name == "PG_VERSION") {
      recorded = n.user;
      modes = cluster_modes(n.mode);
    }
  if (geteuid() == 0) owner = choose_cluster_owner(opts.owner, dir, recorded);

  RestoreResult r = restore_subtree(repo, snap, *data_tree, dir, opts.delta, true, opts.threads, progress, opts.cancel);
  res.bytes += r.bytes;
  res.bytes_written += r.bytes_written;
  res.files += r.files;
  for (const auto& w : r.warnings) res.warnings.push_back(w.path + ": " + w.message);
  std::optional<Tree> tbs;
  if (tbs_tree) tbs = repo.load_tree(*tbs_tree);
  UniqueFd dirfd = open_directory(dir);
  for (const auto& [oid, loc] : placements) {
    const Node* n = nullptr;
    if (tbs)
      for (const auto& x : tbs->nodes)
        if (x.name == oid) n = &x;
    if (!n || !n->subtree)
      throw Error(ErrorKind::Corrupt, "snapshot " + snap.id.short_hex() + " lacks tablespace " + oid);
    RestoreResult tr =
        restore_subtree(repo, snap, *n->subtree, loc, opts.delta, false, opts.threads, progress, opts.cancel);
    res.bytes += tr.bytes;
    res.bytes_written += tr.bytes_written;
    res.files += tr.files;
    // The link is Arca's own, to the checked location; the point's link (to the recorded
    // location) is replaced, below the data directory and without following anything.
    const std::string shown = dir + "/pg_tblspc/" + oid;
    if (mkdirat(dirfd.get(), "pg_tblspc", 0700) != 0 && errno != EEXIST)
      throw_errno("create", dir + "/pg_tblspc", errno);
    UniqueFd links(open_beneath(dirfd.get(), "pg_tblspc", O_RDONLY | O_DIRECTORY));
    if (!links) throw_errno("open", dir + "/pg_tblspc", errno);
    if (unlinkat(links.get(), oid.c_str(), 0) != 0 && errno != ENOENT) throw_errno("remove", shown, errno);
    if (symlinkat(loc.c_str(), links.get(), oid.c_str()) != 0) throw_errno("symlink", shown, errno);
  }

  // Ownership and modes: PostgreSQL runs as the files' owner and insists on a private data
  // directory; a point's modes are not kept (a 0666 relation file would let any local user alter
  // the database). In a tablespace location only what was restored is changed, never the other
  // entries a --delta location may hold (see docs/security.md).
  const ClusterOwner* settle_owner = owner ? &*owner : nullptr;
  settle_beneath(dirfd.get(), dir, modes, settle_owner);
  for (const auto& [oid, loc] : placements) {
    UniqueFd locfd = open_directory(loc);
    if (settle_owner && fchown(locfd.get(), settle_owner->uid, settle_owner->gid) != 0)
      throw_errno("chown", loc, errno);
    if (fchmod(locfd.get(), modes.dir) != 0) throw_errno("chmod", loc, errno);
    for (const auto& x : tbs->nodes)
      if (x.name == oid && x.subtree)
        for (const auto& v : repo.load_tree(*x.subtree).nodes) {
          UniqueFd vfd(open_beneath(locfd.get(), v.name, O_RDONLY | O_DIRECTORY));
          if (!vfd) throw_errno("open", loc + "/" + v.name, errno);
          settle_beneath(vfd.get(), loc + "/" + v.name, modes, settle_owner);
        }
  }

  const ClusterOwner* own = owner ? &*owner : nullptr;
  for (const auto& [name, original] : pg_command_settings_found(dirfd.get(), dir))
    res.warnings.push_back("the backup sets " + name + " = '" + original +
                           "': emptied in postgresql.auto.conf (Arca's block), as a restored cluster must not run "
                           "commands chosen by the backed-up server; set it again only if you trust it "
                           "(docs/security.md)" +
                           (name == "archive_command" || name == "archive_library"
                                ? std::string(". Until then the server archives nothing and keeps its WAL in "
                                              "pg_wal (archive_mode on): ALTER SYSTEM SET " +
                                              name + " = '…'; SELECT pg_reload_conf();")
                                : std::string()));
  write_recovery_settings(dirfd.get(), dir, snap, opts, needs_recovery, archive_off, own);
  if (faccessat(dirfd.get(), "postgresql.conf", F_OK, AT_SYMLINK_NOFOLLOW) != 0)
    res.warnings.push_back(
        "the backup has no postgresql.conf (the cluster keeps its configuration elsewhere, e.g. "
        "/etc/postgresql/<version>/<cluster>): copy the configuration into " +
        dir + " or start the server with config_file pointing at it");
  if (needs_recovery) {
    // One signal only: with both, PostgreSQL enters standby mode (a backed-up standby's
    // standby.signal would keep a point-in-time restore from ever finishing).
    const char* signal = opts.standby ? "standby.signal" : "recovery.signal";
    const char* other = opts.standby ? "recovery.signal" : "standby.signal";
    if (unlinkat(dirfd.get(), other, 0) != 0 && errno != ENOENT) throw_errno("remove", dir + "/" + other, errno);
    write_file_beneath(dirfd.get(), signal, "", dir + "/" + signal, own);
  }
  res.restore_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace arca
