#include "ops/pg_wal.h"

#include <regex>

#include "repo/wal_names.h"
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

}  // namespace arca::ops
