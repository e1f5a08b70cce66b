#include "ops/pg_wal.h"

#include <algorithm>
#include <filesystem>
#include <regex>

#include "ops/error_table.h"
#include "repo/wal_names.h"
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

}  // namespace arca::ops
