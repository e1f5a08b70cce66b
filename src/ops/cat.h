// `arca cat`: one repository object in readable form — config, snapshot, index, pack and tree as
// JSON, a blob or a file of a snapshot as its raw bytes. Secrets are never shown.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "repo/repository.h"
#include "repo/snapshot_filter.h"
#include "util/bytes.h"
#include "util/job_context.h"

namespace arca::ops {

struct CatRequest {
  // The kind and its arguments: {"config"}, {"snapshot", ID}, {"index", ID}, {"pack", ID},
  // {"tree", ID}, {"blob", ID}, {"file", SNAPSHOT, PATH}.
  std::vector<std::string> what;
  SnapshotFilter filter;  // for 'snapshot latest' and 'file latest PATH'
  // Where raw bytes (blob, file) go, piece by piece; null: into the result's `raw`.
  std::function<void(ByteView)> write;
};

struct CatResult {
  std::optional<nlohmann::json> json;  // config, snapshot, index, pack, tree
  Bytes raw;                           // blob, file, when the request had no `write`
  nlohmann::json to_json() const { return json ? *json : nlohmann::json(nullptr); }
};

// Usage for an unknown kind, a wrong argument count or an ambiguous prefix; NotFound for an
// unknown id or path.
CatResult cat(Repository& repo, const CatRequest& req, JobContext& ctx);

}  // namespace arca::ops
