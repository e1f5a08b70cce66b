#include "ops/pg_wal.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>

#include "ops/error_table.h"
#include "repo/wal_names.h"
#include "sources/postgres/cluster_restore.h"
#include "sources/postgres/pg_conn.h"
#include "sources/postgres/wal_archive.h"
#include "sources/postgres/wal_batch.h"
#include "sources/postgres/wal_prefetch.h"
#include "util/error.h"
#include "util/io.h"
#include "util/subprocess.h"

namespace arca::ops {

uint64_t parse_system_id(const std::string& s) {
  try {
    size_t used = 0;
    uint64_t v = std::stoull(s, &used, 10);
    if (used == s.size()) return v;
  } catch (const std::exception&) {}
  throw Error(ErrorKind::Usage, "--system-id " + s + ": expected the decimal number pg_controldata shows");
}

namespace {

// The cluster a WAL file belongs to: --system-id, the segment's own header, or pg_control.
uint64_t wal_system_id(const std::string& explicit_id, const std::string& pgdata, ByteView content) {
  if (!explicit_id.empty()) return parse_system_id(explicit_id);
  if (auto h = read_wal_segment_header(content)) return h->system_id;
  return read_system_id(pgdata.empty() ? "." : pgdata);
}

}  // namespace

WalPushResult wal_push(const std::function<Repository&()>& repo, const WalPushRequest& req, JobContext& ctx) {
  WalPushResult res;
  res.file = std::filesystem::path(req.path).filename().string();
  const std::string& name = res.file;
  if (!parse_wal_file_name(name, 16u << 20))
    throw Error(ErrorKind::Usage, "'" + name + "' is not a WAL file name; archive_command must pass %p");
  // Constructed, not assigned: GCC 12 warns (-Wrestrict, a false positive) on `wal_dir = "."`.
  auto parent = std::filesystem::path(req.path).parent_path();
  std::string wal_dir = parent.empty() ? std::string(".") : parent.string();
  std::string sp = req.spool.empty() ? default_push_spool(wal_dir, req.repository) : req.spool;
  if (take_pushed_marker(sp, name)) {
    res.status = WalPushResult::Status::PushedAhead;  // stored by an earlier call's batch
    return res;
  }
  Bytes content = read_whole_file(req.path);
  res.system_id = wal_system_id(req.system_id, req.pgdata, content);
  res.bytes = content.size();
  Repository& r = repo();
  WalArchive archive(r, res.system_id);
  res.status = archive.push(name, content) == WalArchive::PushResult::Stored ? WalPushResult::Status::Stored
                                                                             : WalPushResult::Status::AlreadyArchived;
  std::vector<std::string> warnings;
  if (req.batch > 0 && read_wal_segment_header(content))
    res.pushed_ahead =
        push_ready_segments(archive, wal_dir, sp, name, req.batch, std::max(4u, r.backend().parallelism()), warnings);
  for (const auto& w : warnings) ctx.warn("pg.wal_push_ahead_failed", "pushing ahead: " + w, {{"file", name}});
  return res;
}

nlohmann::json WalPushResult::to_json() const {
  if (status == Status::PushedAhead) return {{"file", file}, {"result", "pushed_ahead"}};
  return {{"file", file},
          {"system_id", std::to_string(system_id)},
          {"bytes", bytes},
          {"result", status == Status::Stored ? "stored" : "already_archived"},
          {"pushed_ahead", pushed_ahead}};
}

WalFetchResult wal_fetch(const std::function<Repository&()>& repo, const WalFetchRequest& req, JobContext& ctx) {
  WalFetchResult res;
  std::string datadir = req.pgdata.empty() ? "." : req.pgdata;
  std::string sp = req.spool.empty() ? default_wal_spool(datadir) : req.spool;
  if (take_spooled_wal(sp, req.file, req.destination)) {
    res.status = WalFetchResult::Status::FromSpool;  // fetched ahead by an earlier call
    return res;
  }
  uint64_t id = req.system_id.empty() ? read_system_id(datadir) : parse_system_id(req.system_id);
  Repository& r = repo();
  WalArchive archive(r, id);
  auto content = archive.fetch(req.file);
  if (!content) {
    res.status = WalFetchResult::Status::NotInArchive;
    return res;
  }
  write_wal_file(req.destination, *content);
  res.bytes = content->size();
  try {
    prefetch_wal(archive, sp, req.file, *content, req.prefetch, std::max(4u, r.backend().parallelism()));
  } catch (const Error& e) {
    ctx.warn("pg.wal_prefetch_failed", "prefetching WAL after " + req.file + ": " + e.what(), {{"file", req.file}});
  }
  return res;
}

WalStreamResult wal_stream(Repository& repo, const WalStreamRequest& req, JobContext& ctx) {
  const auto& o = req.options;
  if (!std::regex_match(o.slot, std::regex("[a-z0-9_]{1,63}")))
    throw Error(ErrorKind::Usage, "--slot " + o.slot + ": slot names are 1-63 lowercase letters, digits and '_'");
  WalStreamStatus own;
  WalStreamStatus& st = req.status ? *req.status : own;
  pg_wal_stream(
      repo, o, st, ctx.cancel.flag(), req.log ? req.log : [](const std::string&) {});
  WalStreamResult r;
  r.received = st.received;
  r.segments = st.segments;
  r.pieces = st.pieces;
  r.flushed_lsn = st.flushed_lsn;
  r.reconnects = st.reconnects;
  return r;
}

nlohmann::json WalStreamResult::to_json() const {
  return {{"stopped", true},
          {"received", received},
          {"segments", segments},
          {"pieces", pieces},
          {"flushed_lsn", format_lsn(flushed_lsn)},
          {"reconnects", reconnects}};
}

PgCheckResult pg_check(Repository& repo, const PgCheckRequest& req, JobContext&) {
  std::optional<std::pair<uint32_t, Lsn>> server;
  if (!req.conninfo.empty()) {
    PgConn c(req.conninfo, PgConn::Mode::Replication);
    PgResult r = c.exec("IDENTIFY_SYSTEM", "IDENTIFY_SYSTEM");
    server = std::make_pair(uint32_t(std::stoul(PQgetvalue(r.get(), 0, 1))), parse_lsn(PQgetvalue(r.get(), 0, 2)));
  }
  PgCheckResult res;
  res.report = check_wal_continuity(repo, req.system_id, server);
  return res;
}

int PgCheckResult::exit_code() const { return report.ok() ? kExitOk : kExitCorrupt; }

nlohmann::json PgCheckResult::to_json() const {
  const WalContinuityReport& rep = report;
  nlohmann::json tls = nlohmann::json::array(), bks = nlohmann::json::array();
  for (const auto& t : rep.timelines) {
    nlohmann::json gaps = nlohmann::json::array();
    for (const auto& gp : t.gaps)
      gaps.push_back({{"first_missing", gp.first_missing}, {"last_missing", gp.last_missing}});
    tls.push_back({{"timeline", t.timeline},
                   {"first", t.first},
                   {"last", t.last},
                   {"segments", t.segments},
                   {"last_is_partial", t.last_is_partial},
                   {"parent", t.parent ? nlohmann::json(*t.parent) : nlohmann::json()},
                   {"gaps", gaps}});
  }
  for (const auto& b : rep.backups)
    bks.push_back({{"snapshot", b.snapshot.id.hex()},
                   {"time", b.snapshot.time},
                   {"continuous", b.continuous},
                   {"recoverable_to", b.recoverable_to},
                   {"timeline", b.end_timeline},
                   {"first_gap", b.first_gap ? nlohmann::json{{"first_missing", b.first_gap->first_missing},
                                                              {"last_missing", b.first_gap->last_missing}}
                                             : nlohmann::json()}});
  nlohmann::json j = {
      {"system_id", std::to_string(rep.system_id)}, {"ok", rep.ok()}, {"timelines", tls}, {"backups", bks}};
  if (rep.server_lsn) {
    j["server_lsn"] = format_lsn(*rep.server_lsn);
    j["segments_behind"] = rep.segments_behind;
  }
  return j;
}

std::string wal_fetch_command(const WalFetchCommand& c) {
  auto arg = [](const std::string& s) {
    std::string out;
    for (char ch : shell_quote(s)) out += ch == '%' ? "%%" : std::string(1, ch);
    return out;
  };
  auto abs = [](const std::string& f) { return std::filesystem::absolute(f).string(); };
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  std::string repo = c.repository.rfind("s3:", 0) == 0 ? c.repository : abs(c.repository);
  std::string cmd = arg(ec ? "arca" : self.string()) + " pg wal-fetch --repo " + arg(repo);
  if (!c.key_file.empty())
    cmd += " --key-file " + arg(abs(c.key_file));
  else if (!c.password_file.empty())
    cmd += " --password-file " + arg(abs(c.password_file));
  for (const auto& o : c.options) cmd += " -o " + arg(o);
  if (!c.system_id.empty()) cmd += " --system-id " + arg(c.system_id);
  if (c.quiet) cmd += " -q";
  return cmd + " \"%f\" \"%p\"";
}

namespace {

// Where a restore of a base backup can get to in the archive: pg check's path from its end.
struct WalPath {
  uint64_t system_id = 0, segment_size = 0;
  Lsn from = 0;  // the backup's stop LSN
  uint32_t backup_timeline = 0, end_timeline = 0;
  uint64_t end_segment = 0;  // the newest segment reachable without a gap
  std::map<uint32_t, TimelineCoverage> timelines;
};

// nullopt when the backup's metadata or the archive names no such path (`note` says why).
std::optional<WalPath> wal_path(Repository& repo, const Snapshot& backup, std::string& note) {
  WalPath p;
  try {
    p.system_id = std::stoull(snapshot_meta(backup, "system_id"));
    p.segment_size = std::stoull(snapshot_meta(backup, "wal_segment_size"));
    p.backup_timeline = uint32_t(std::stoul(snapshot_meta(backup, "stop_timeline")));
    p.from = parse_lsn(snapshot_meta(backup, "stop_lsn"));
  } catch (const std::exception&) {
    note = "the base backup's metadata names no WAL position (system_id, stop_timeline, stop_lsn, wal_segment_size)";
    return std::nullopt;
  }
  if (p.segment_size == 0) {
    note = "the base backup's metadata gives a WAL segment size of 0";
    return std::nullopt;
  }
  WalContinuityReport rep = check_wal_continuity(repo, p.system_id, std::nullopt);
  for (const auto& t : rep.timelines) p.timelines[t.timeline] = t;
  for (const auto& b : rep.backups) {
    if (b.snapshot.id != backup.id) continue;
    auto end = parse_wal_file_name(b.recoverable_to, p.segment_size);
    if (!end) break;
    p.end_timeline = b.end_timeline;
    p.end_segment = end->segno;
    return p;
  }
  note = "the WAL archive has no path from this base backup";
  return std::nullopt;
}

}  // namespace

ArchivedCommit newest_archived_commit(Repository& repo, const Snapshot& backup, unsigned max_segments) {
  ArchivedCommit res;
  std::optional<WalPath> path = wal_path(repo, backup, res.note);
  if (!path) return res;
  const WalPath& p = *path;
  const uint64_t first = wal_segno(p.from, p.segment_size);
  WalArchive archive(repo, p.system_id);
  uint32_t tli = p.end_timeline;
  uint64_t seg = p.end_segment;
  std::optional<Bytes> newer;  // (tli, seg + 1), read before: the last record may end in it
  for (unsigned tried = 0; tried < max_segments;) {
    // The oldest segment of this timeline on the path: the backup's own, or where it branched.
    uint64_t low = first;
    const auto t = p.timelines.find(tli);
    if (tli != p.backup_timeline) {
      if (t == p.timelines.end() || !t->second.parent || !t->second.switch_lsn) break;
      low = wal_segno(*t->second.switch_lsn, p.segment_size);
    }
    if (seg < low) {
      // Parents are older timelines (a history file saying otherwise must not make this loop).
      if (tli == p.backup_timeline || low == 0 || *t->second.parent >= tli || *t->second.parent < p.backup_timeline)
        break;
      tli = *t->second.parent;  // the switch segment itself is the child's: the parent's end is before it
      seg = low - 1;
      newer.reset();
      continue;
    }
    const std::string name = wal_segment_name(tli, seg, p.segment_size);
    std::optional<Bytes> content = archive.fetch(name, true);
    tried++;
    if (content) {
      res.segments_read++;
      ByteView next = newer ? ByteView(*newer) : ByteView();
      WalSegmentScan scan = scan_wal_segment(*content, next);
      if (scan.system_id == p.system_id && scan.newest_commit && scan.newest_commit->lsn >= p.from) {
        res.commit = scan.newest_commit;
        res.segment = name;
        return res;
      }
      newer = std::move(content);
    } else {
      newer.reset();
    }
    if (seg == 0) break;
    seg--;
  }
  if (res.segments_read == 0)
    res.note = "no WAL archived after the base backup";
  else
    res.note = "no commit after the base backup in the newest " + std::to_string(res.segments_read) +
               " archived segments" + (res.segments_read >= max_segments ? " (the most it reads)" : "");
  return res;
}

}  // namespace arca::ops
