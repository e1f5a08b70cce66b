// `arca check`: verify the repository's structure, and with read_data the stored data.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "repo/check.h"
#include "repo/repository.h"
#include "util/job_context.h"

namespace arca::ops {

struct CheckRequest {
  bool read_data = false;  // read every pack
  std::string subset;      // read some packs: "10%" (random) or "n/t" (group n of t, as restic)
};

struct CheckReport {
  bool read_data = false;  // some stored data was read
  CheckResult result;
  bool ok() const { return result.ok(); }
  nlohmann::json to_json() const;  // check --json
};

// Damage is reported in the result (ok() false: exit 12), not thrown; Error(Usage) for bad options.
CheckReport check(Repository& repo, const CheckRequest& req, JobContext& ctx);

}  // namespace arca::ops
