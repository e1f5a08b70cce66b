#include "drill/drill_components.h"
#include "drill/drill_failover.h"
#include "drill/drill_kafka.h"
#include "drill/drill_targets.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "ops/pg_verify.h"
#include "ops/redis_verify.h"
#include "ops/restore_files.h"
#include "repo/future_points.h"
#include "repo/snapshot_filter.h"
#include "sources/postgres/cluster_restore.h"
#include "sources/postgres/pg_server.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/subprocess.h"

namespace arca::drill {

namespace fs = std::filesystem;

namespace {

constexpr const char* kMarker = ".arca-drill";

// Field 22 of /proc/PID/stat: the process's start time, which tells a live drill from a reused pid.
std::string process_start(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close == std::string::npos) return "";
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && rest >> field; ++i) {
  }
  return field;
}

// A scratch directory removed when the component ends (kept: an explicit target).
struct Scratch {
  std::string path;
  ~Scratch() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
};

// The newest point `match` accepts at or before the incident, or the one `ref` names.
Snapshot locate(const Repository& repo, const ComponentSpec& c, double incident,
                const std::function<bool(const Snapshot&)>& match, const std::string& what) {
  auto all = repo.list_snapshots();
  if (c.kind != ComponentKind::Files)
    if (auto why = unknown_source(all, std::string(to_string(c.kind)), c.source); !why.empty())
      throw Error(ErrorKind::NotFound, why);
  if (c.snapshot != "latest") {
    Snapshot s = resolve_snapshot(repo, c.snapshot, {});
    if (!match(s))
      throw Error(ErrorKind::Usage, "recovery point " + c.snapshot + " (" + s.source_kind + " '" + s.source_name + "'" +
                                        (s.partial ? ", partial" : "") + ") is not one of " + what);
    return s;
  }
  std::vector<std::string> skipped;
  auto newest = newest_point(all, match, static_cast<int64_t>(incident), skipped);
  if (!newest)
    throw Error(ErrorKind::NotFound, "no recovery point of " + what + " at or before the incident (" +
                                         rfc3339_utc(incident) + ")");
  return *newest;
}

// Replaces every `from` in `s` by `to`.
void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
}

// A validator program, run in the restore root: "{dir}" in an argument becomes that root (where
// the original absolute paths are), "{path}" the restored copy of the component's first path.
CheckResult run_command(const CommandCheck& cmd, const std::string& dir, const std::string& path,
                        const CancelToken* cancel) {
  std::vector<std::string> argv = cmd.argv;
  for (auto& a : argv) {
    replace_all(a, "{dir}", dir);
    replace_all(a, "{path}", path);
  }
  CheckResult c{cmd.name, true, false, ""};
  auto [rc, output] = run_program(argv, dir, ChildEnv::NoSecrets, cancel, "drill validator");
  while (!output.empty() && std::isspace(static_cast<unsigned char>(output.back()))) output.pop_back();
  if (rc != cmd.expect_exit) {
    c.passed = false;
    c.detail = "exit " + std::to_string(rc) + ", expected " + std::to_string(cmd.expect_exit) +
               (output.empty() ? "" : ": " + output.substr(0, 500));
  } else if (cmd.expect_output && output != *cmd.expect_output) {
    c.passed = false;
    c.detail = "printed '" + output.substr(0, 200) + "', expected '" + *cmd.expect_output + "'";
  } else {
    c.detail = "exit " + std::to_string(rc);
  }
  return c;
}

void files_component(const ComponentRun& run, ComponentResult& r, JobContext& ctx) {
  const ComponentSpec& c = run.component;
  std::unique_ptr<Repository> repo;
  Snapshot snap;
  std::vector<std::string> paths = absolute_paths(c.paths);
  {
    PhaseTimer t(r, run.drill_start, "locate");
    repo = run.env.open_repository();
    snap = locate_point(*repo, c, run.incident);
    fill_point(r, snap);
  }
  // Checked again here (check_targets ran before the drill): something may have been written
  // there since, and a drill never restores over data.
  if (!c.directory.empty())
    if (auto why = target_problem(c.directory); !why.empty())
      throw Error(ErrorKind::Refused, "directory " + c.directory + " " + why);
  Scratch scratch;
  std::string dir = c.directory;
  if (dir.empty()) dir = scratch.path = make_scratch(scratch_parent(run.spec), run.spec.name, c.name);
  ops::RestoreFilesResult restored;
  {
    PhaseTimer t(r, run.drill_start, "restore");
    ops::RestoreFilesRequest req;
    req.snapshot = snap.id.hex();
    req.options.target = c.directory.empty() ? dir + "/root" : dir;
    restored = ops::restore_files(*repo, snap, req, ctx);
  }
  PhaseTimer t(r, run.drill_start, "validate");
  const std::string root = restored.options.target;
  const auto& f = restored.files;
  const bool complete = restored.verdict.outcome == RestoreOutcome::Ok;
  r.checks.push_back({"restore complete", complete, false,
                      complete ? std::to_string(f.files) + " files, " + std::to_string(f.bytes) + " bytes"
                               : std::string("outcome ") + restore_outcome_name(restored.verdict.outcome)});
  // The manifest: what the recovery point says it holds against what was written.
  const bool manifest = f.files + f.hardlinks == snap.stats.files && f.bytes == snap.stats.bytes;
  r.checks.push_back({"manifest", manifest, false,
                      "recovery point: " + std::to_string(snap.stats.files) + " files, " +
                          std::to_string(snap.stats.bytes) + " bytes; restored: " + std::to_string(f.files + f.hardlinks) +
                          " files, " + std::to_string(f.bytes) + " bytes"});
  // An original path's restored copy: each backed-up path is restored under its last component
  // (`/` as the root itself, docs/user-guide.md); a relative name is relative to the first path.
  auto restored_at = [&](const std::string& original) -> std::string {
    for (const auto& p : paths) {
      const std::string top = p == "/" ? root : root + "/" + fs::path(p).filename().string();
      if (original == p) return top;
      if (p == "/") return root + original;
      if (original.rfind(p + "/", 0) == 0) return top + original.substr(p.size());
    }
    return "";
  };
  const std::string first = restored_at(paths.front());
  for (const auto& want : c.expect_files) {
    const std::string at = want.front() == '/' ? restored_at(want) : first + "/" + want;
    if (at.empty()) {
      r.checks.push_back({"file " + want, false, false, "is under none of the component's paths"});
      continue;
    }
    std::error_code ec;
    const bool there = fs::exists(at, ec);
    r.checks.push_back({"file " + want, there, false, there ? "present" : "missing from the restored tree"});
  }
  for (const auto& cmd : c.commands) r.checks.push_back(run_command(cmd, root, first, &ctx.cancel));
  r.newest_data = parse_time(snap.time);
}

// The SQL checks as a pg verify checks file (src/sources/postgres/checks_file.h) in `dir`.
std::string write_checks_file(const std::vector<SqlCheck>& checks, const std::string& dir) {
  if (checks.empty()) return "";
  std::string path = dir + "/checks.sql";
  std::ofstream out(path);
  for (const auto& s : checks) {
    std::string name = s.name;
    for (char& ch : name)
      if (ch == '\n') ch = ' ';
    out << "-- check: " << name << "\n-- database: " << s.database << "\n-- expect: " << s.expect << "\n"
        << s.query << "\n\n";
  }
  if (!out) throw Error(ErrorKind::Io, "cannot write the drill's SQL checks to " + path);
  return path;
}

// PostgreSQL's recovery_target_time takes "2026-12-07 16:00:24.403+00", not RFC 3339's T and Z.
std::string pg_time(const std::string& rfc3339_utc_text) {
  std::string s = rfc3339_utc_text;
  if (auto t = s.find('T'); t != std::string::npos) s[t] = ' ';
  if (!s.empty() && s.back() == 'Z') s.replace(s.size() - 1, 1, "+00");
  return s;
}

}  // namespace

RecoveryTarget pg_recovery_target(const ComponentRun& run) {
  const PgRecoverTo& t = run.component.recover_to;
  auto just_before_incident = [&] {
    RecoveryTarget r = RecoveryTarget::of(RecoveryTarget::Kind::Time, pg_time(rfc3339_utc(run.incident, true)));
    r.inclusive = false;
    return r;
  };
  switch (t.kind) {
    case PgRecoverTo::Kind::Latest:
      return run.incident_given ? just_before_incident() : RecoveryTarget::of(RecoveryTarget::Kind::Latest);
    case PgRecoverTo::Kind::Incident: return just_before_incident();
    case PgRecoverTo::Kind::Backup: return RecoveryTarget::of(RecoveryTarget::Kind::Immediate);
    case PgRecoverTo::Kind::Time: return RecoveryTarget::of(RecoveryTarget::Kind::Time, pg_time(utc_time(t.value)));
    case PgRecoverTo::Kind::Lsn: return RecoveryTarget::of(RecoveryTarget::Kind::Lsn, t.value);
    case PgRecoverTo::Kind::Name: return RecoveryTarget::of(RecoveryTarget::Kind::Name, t.value);
  }
  return RecoveryTarget::of(RecoveryTarget::Kind::Latest);
}

namespace {

void postgres_component(const ComponentRun& run, ComponentResult& r, JobContext& ctx) {
  const ComponentSpec& c = run.component;
  std::unique_ptr<Repository> repo;
  Scratch scratch;
  scratch.path = make_scratch(scratch_parent(run.spec), run.spec.name, c.name);
  PgVerifyOptions o;
  o.source_name = c.source;
  o.scratch_parent = scratch.path;
  o.owner = run.env.pg_owner;
  o.target = pg_recovery_target(run);
  o.checks_file = write_checks_file(c.sql, scratch.path);
  {
    PhaseTimer t(r, run.drill_start, "locate");
    repo = run.env.open_repository();
    Snapshot base;
    if (o.target.kind == RecoveryTarget::Kind::Immediate) {
      base = locate_point(*repo, c, run.incident);
    } else {
      if (auto why = unknown_source(repo->list_snapshots(), "postgres", c.source); !why.empty())
        throw Error(ErrorKind::NotFound, why);
      if (c.snapshot != "latest") o.snapshot = c.snapshot;
      base = *ops::pg_verify_replay_point(*repo, o);
      o.restore_command = run.env.wal_fetch_command(snapshot_meta(base, "system_id"));
    }
    o.snapshot = base.id.hex();
    fill_point(r, base);
  }
  // pg verify restores, starts (replaying WAL to the target) and checks in one call; its own
  // timings split that span into phases.
  const double began = clock_now_s() - run.drill_start;
  ops::PgVerifyOpResult v = ops::pg_verify(*repo, o, ctx);
  const auto& res = v.verify;
  r.phases.push_back({"restore", began, began + res.restore_s});
  r.phases.push_back({o.target.kind == RecoveryTarget::Kind::Immediate ? "start" : "start and WAL replay",
                      began + res.restore_s, began + res.restore_s + res.start_s});
  r.phases.push_back({"validate", began + res.restore_s + res.start_s, clock_now_s() - run.drill_start});
  for (const auto& chk : res.checks)
    // Checks run per database; the default database goes unnamed.
    r.checks.push_back({chk.name + (chk.database.empty() || chk.database == "postgres" ? "" : " (" + chk.database + ")"),
                        chk.passed, chk.skipped, chk.detail});
  if (res.newest_data_time > 0) r.newest_data = res.newest_data_time;
}

void redis_component(const ComponentRun& run, ComponentResult& r, JobContext& ctx) {
  const ComponentSpec& c = run.component;
  std::unique_ptr<Repository> repo;
  Scratch scratch;
  scratch.path = make_scratch(scratch_parent(run.spec), run.spec.name, c.name);
  ops::RedisVerifyRequest o;
  {
    PhaseTimer t(r, run.drill_start, "locate");
    repo = run.env.open_repository();
    Snapshot s = locate_point(*repo, c, run.incident);
    fill_point(r, s);
    o.snapshot = s.id.hex();
  }
  o.source = c.source;
  o.scratch_parent = scratch.path;
  o.samples = c.redis_samples;
  const double began = clock_now_s() - run.drill_start;
  ops::RedisVerifyOpResult v = ops::redis_verify(*repo, o, ctx);
  r.phases.push_back({"restore", began, began + v.restore_s});
  r.phases.push_back({"start", began + v.restore_s, began + v.restore_s + v.load_s});
  // Validated when the checks end: stopping the scratch server afterwards (Redis 7 takes over a
  // second on SIGTERM) is not part of the recovery time.
  r.phases.push_back({"validate", began + v.restore_s + v.load_s, began + v.restore_s + v.load_s + v.checks_s});
  for (const auto& chk : v.checks) r.checks.push_back({chk.name, chk.passed, false, chk.detail});
  if (c.min_keys)
    r.checks.push_back({"at least " + std::to_string(*c.min_keys) + " keys", v.keys_loaded >= *c.min_keys, false,
                        std::to_string(v.keys_loaded) + " keys loaded"});
  r.newest_data = parse_time(v.snapshot.time);
}

}  // namespace

void fill_point(ComponentResult& r, const Snapshot& s) {
  r.snapshot_id = s.id.hex();
  r.snapshot_time = s.time;
}

Snapshot locate_point(const Repository& repo, const ComponentSpec& c, double incident) {
  if (c.kind == ComponentKind::Files) {
    const std::vector<std::string> paths = absolute_paths(c.paths);
    std::string listed;
    for (const auto& p : paths) listed += (listed.empty() ? "" : " ") + p;
    return locate(
        repo, c, incident,
        [&](const Snapshot& s) {
          return s.source_kind == "files" && !s.partial && same_path_set(s.paths, paths) &&
                 (c.host.empty() || s.host == c.host);
        },
        "the paths " + listed + (c.host.empty() ? "" : " of host " + c.host));
  }
  const std::string kind(to_string(c.kind));
  // A Kafka archive point is never partial in the files sense: its segments are complete.
  const bool kafka = c.kind == ComponentKind::Kafka;
  static const std::map<std::string, std::string> kTitle{{"postgres", "PostgreSQL"}, {"redis", "Redis"}, {"kafka", "Kafka"}};
  return locate(
      repo, c, incident,
      [&](const Snapshot& s) { return s.source_kind == kind && s.source_name == c.source && (kafka || !s.partial); },
      kTitle.at(kind) + " source '" + c.source + "'");
}

std::string scratch_parent(const DrillSpec& spec) {
  if (!spec.scratch_dir.empty()) return spec.scratch_dir;
  const char* tmp = std::getenv("TMPDIR");
  return tmp && *tmp ? tmp : "/tmp";
}

std::string unknown_source(const std::vector<Snapshot>& all, const std::string& kind, const std::string& source) {
  std::set<std::string> names;
  for (const auto& s : all)
    if (s.source_kind == kind) {
      if (s.source_name == source) return "";
      names.insert(s.source_name);
    }
  std::string msg = "the repository holds no " + kind + " recovery point of source '" + source + "'";
  if (names.empty()) return msg + " (nor of any other " + kind + " source)";
  msg += "; its " + kind + " sources: ";
  size_t n = 0;
  for (const auto& name : names) {
    if (n++ == 10) {
      msg += ", …";
      break;
    }
    msg += (n > 1 ? ", " : "") + name;
  }
  return msg + " ('arca snapshots --json' shows each point's source.name)";
}

std::string target_problem(const std::string& dir) {
  std::error_code ec;
  const auto st = fs::status(dir, ec);
  if (st.type() == fs::file_type::not_found) return "";
  if (ec) return "cannot be examined: " + ec.message();
  if (st.type() != fs::file_type::directory) return "exists and is not a directory";
  if (!fs::is_empty(dir, ec) || ec)
    return ec ? "cannot be read: " + ec.message()
              : "is not empty: a drill restores only into an absent or empty directory (never over data)";
  return "";
}

std::vector<std::string> check_targets(const DrillSpec& spec) {
  std::vector<std::string> problems;
  bool scratch = false;
  for (const auto& c : spec.components) {
    // A PostgreSQL data directory follows the files rule, whatever `production` says.
    const bool pg = c.kind == ComponentKind::Postgres && c.target.given;
    const std::string& dir = pg ? c.target.data_dir : c.directory;
    if (!dir.empty()) {
      if (auto why = target_problem(dir); !why.empty())
        problems.push_back("components." + c.name + (pg ? ".target.data-dir: " : ".directory: ") + dir + " " + why);
      continue;
    }
    // Kafka's scratch cluster runs in this process, with nothing on disk; a target needs none.
    if (c.kind != ComponentKind::Kafka && !c.target.given) scratch = true;
  }
  if (scratch) {
    const std::string parent = scratch_parent(spec);
    std::error_code ec;
    const bool dir = fs::is_directory(parent, ec);
    const std::string fix = spec.scratch_dir.empty() ? "set scratch: in the drill file, or TMPDIR"
                                                     : "create it, or change scratch: in the drill file";
    if (!dir)
      problems.push_back("scratch directory " + parent + (fs::exists(parent, ec) ? " is not a directory" : " does not exist") +
                         ": " + fix);
    else if (access(parent.c_str(), W_OK | X_OK) != 0)
      problems.push_back("scratch directory " + parent + " is not writable by this user: " + fix);
  }
  return problems;
}

std::string make_scratch(const std::string& parent, const std::string& drill, const std::string& component) {
  std::string tmpl = parent + "/arca-drill-" + drill + "-" + component + "-XXXXXX";
  if (!mkdtemp(tmpl.data())) throw_errno("mkdtemp", tmpl, errno);
  // Enterable (not listable) by others: a scratch PostgreSQL runs as its own user inside.
  if (chmod(tmpl.c_str(), 0711) != 0) throw_errno("chmod", tmpl, errno);
  std::ofstream marker(tmpl + "/" + kMarker);
  marker << getpid() << " " << process_start(getpid()) << "\n";
  if (!marker) throw Error(ErrorKind::Io, "cannot write the drill's marker in " + tmpl);
  return tmpl;
}

std::vector<std::string> remove_stale_scratch(const std::string& parent) {
  std::vector<std::string> removed;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(parent, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("arca-drill-", 0) != 0 || !e.is_directory(ec) || e.is_symlink(ec)) continue;
    std::ifstream marker(e.path() / kMarker);
    pid_t pid = 0;
    std::string started;
    if (!(marker >> pid >> started)) continue;  // not (or not yet) a drill's: never touched
    if (pid > 0 && process_start(pid) == started) continue;  // its drill still runs
    // Servers the killed drill left running there (a scratch postgres or redis-server has its
    // working directory inside, and so has the arca wal-fetch a replaying postgres runs):
    // stopped before their files go. Only those: an operator's shell looking at the leftovers
    // also has its working directory there.
    const std::string root = fs::canonical(e.path(), ec).string();
    const std::string self = fs::read_symlink("/proc/self/exe", ec).filename().string();
    std::vector<pid_t> killed;
    DIR* proc = opendir("/proc");
    for (dirent* d = proc ? readdir(proc) : nullptr; d; d = readdir(proc)) {
      pid_t p = static_cast<pid_t>(std::atoi(d->d_name));
      if (p <= 0) continue;
      std::string cwd = fs::read_symlink("/proc/" + std::to_string(p) + "/cwd", ec).string();
      if (ec || root.empty() || (cwd != root && cwd.rfind(root + "/", 0) != 0)) continue;
      const std::string exe = fs::read_symlink("/proc/" + std::to_string(p) + "/exe", ec).filename().string();
      if (!ec && (exe == "postgres" || exe == "redis-server" || exe == self) && kill(p, SIGKILL) == 0)
        killed.push_back(p);
    }
    if (proc) closedir(proc);
    // A killed process may still be writing there for a moment (its files would make the removal
    // fail): wait, up to 2 s, until none has a working directory any more (exited, or a zombie).
    for (int i = 0; i < 200; ++i) {
      bool gone = true;
      for (pid_t p : killed) gone = gone && fs::read_symlink("/proc/" + std::to_string(p) + "/cwd", ec).empty();
      if (gone) break;
      usleep(10000);
    }
    // A scratch PostgreSQL whose scratch path was too long for a socket had its socket in a short
    // directory of its own (sources/postgres/verify.cpp), a failover drill's standby in Arca's
    // private run directory (arca-pg-…, with the repository's credentials); postmaster.pid names
    // it (line 5).
    // Files may still vanish under the walk (a dying server removing its own): an entry gone
    // ends one pass, and the walk starts again (at most three times).
    for (int pass = 0; pass < 3; ++pass) {
      std::error_code walk;
      fs::recursive_directory_iterator it(e.path(), fs::directory_options::skip_permission_denied, walk), end;
      for (; !walk && it != end; it.increment(walk)) {
        if (it->path().filename() != "postmaster.pid") continue;
        std::ifstream pidfile(it->path());
        std::string line, socket_dir;
        for (int n = 1; n <= 5 && std::getline(pidfile, line); ++n)
          if (n == 5) socket_dir = line;
        const std::string base = fs::path(socket_dir).filename().string();
        if (base.rfind("arca-pgsock-", 0) == 0 || base.rfind("arca-pg-", 0) == 0) fs::remove_all(socket_dir, ec);
      }
      if (!walk) break;
    }
    // A server's run directory (credentials file) when it could not go inside the scratch.
    for (const auto& dir : remove_stale_pg_run_dirs(root)) removed.push_back(dir);
    fs::remove_all(e.path(), ec);
    if (ec) fs::remove_all(e.path(), ec);  // once more: a file written while the first pass ran
    if (!ec) removed.push_back(e.path().string());
  }
  // Run directories any other killed PostgreSQL restore or verify left ($TMPDIR/arca-pg-*).
  for (const auto& dir : remove_stale_pg_run_dirs("")) removed.push_back(dir);
  return removed;
}

ComponentResult run_component(const ComponentRun& run) {
  const ComponentSpec& c = run.component;
  ComponentResult r;
  r.name = c.name;
  r.kind = c.kind;
  r.objectives = c.objectives;
  if (c.kind == ComponentKind::Files) {
    for (const auto& p : c.paths) r.source += (r.source.empty() ? "" : " ") + p;
  } else {
    r.source = c.source;
  }
  JobContext local;
  JobContext& ctx = run.env.ctx ? *run.env.ctx : local;
  try {
    switch (c.kind) {
      case ComponentKind::Files: files_component(run, r, ctx); break;
      case ComponentKind::Postgres:
        if (c.failover)
          postgres_failover_component(run, r, ctx);
        else
          c.target.given ? postgres_target_component(run, r, ctx) : postgres_component(run, r, ctx);
        break;
      case ComponentKind::Redis:
        c.target.given ? redis_target_component(run, r, ctx) : redis_component(run, r, ctx);
        break;
      case ComponentKind::Kafka: kafka_component(run, r, ctx); break;
    }
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::Cancelled) throw;
    r.error = e.what();
  } catch (const std::exception& e) {
    r.error = e.what();
  }
  if (!r.error.empty()) {
    // The time the failing step took, so that the timeline and the RTO show where it ended.
    const double from = r.phases.empty() ? 0 : r.phases.back().end_s;
    r.phases.push_back({"failed", from, std::max(from, clock_now_s() - run.drill_start)});
  }
  return r;
}

}  // namespace arca::drill
