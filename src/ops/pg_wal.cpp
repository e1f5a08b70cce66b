#include "ops/pg_wal.h"

#include <regex>

#include "ops/error_table.h"
#include "repo/wal_names.h"
#include "sources/postgres/pg_conn.h"
#include "util/error.h"

namespace arca::ops {

WalStreamResult wal_stream(Repository& repo, const WalStreamRequest& req, JobContext& ctx) {
  const auto& o = req.options;
  if (!std::regex_match(o.slot, std::regex("[a-z0-9_]{1,63}")))
    throw Error(ErrorKind::Usage, "--slot " + o.slot + ": slot names are 1-63 lowercase letters, digits and '_'");
  WalStreamStatus st;
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

}  // namespace arca::ops
