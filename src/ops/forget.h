// `arca forget`: remove recovery points by a retention policy or by id. Plans (repo/
// retention_plan.h), enforces the rules (locks, append-only keys, plans that need confirmation)
// and deletes the snapshot objects; 'arca prune' (ops/prune.h) frees the space afterwards.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "repo/repository.h"
#include "util/job_context.h"

namespace arca::ops {

// forget's --keep-* and filter options: one rule "command line" (docs/retention.md).
struct KeepOptions {
  int last = 0, hourly = 0, daily = 0, weekly = 0, monthly = 0, yearly = 0;
  std::string within, within_hourly, within_daily, within_weekly, within_monthly, within_yearly;
  std::vector<std::string> keep_tags;
  std::string group_by = "host,source";
  std::string kind, host, source;  // only points of this kind, host, source name (empty: any)
  std::vector<std::string> tags;   // only points with every one of these tags
  std::vector<std::string> paths;  // only points that backed up every one (made absolute)
  bool any_keep() const;           // some --keep-* given
  bool any_filter() const;         // some --kind/--host/--source/--tag/--path given
};

struct ForgetRequest {
  std::vector<std::string> ids;  // forget these (ids or unique prefixes) instead of a policy
  std::string policy_file;       // a JSON retention table (else `keep`)
  KeepOptions keep;
  bool dry_run = false;
  bool confirmed = false;  // --yes: a plan that needs confirmation goes ahead
  // Asked when the plan needs confirmation and `confirmed` is false (not for dry runs), with the
  // reasons; true goes ahead. Null, or false: nothing is removed and the result says why.
  std::function<bool(const std::vector<std::string>& reasons)> ask;
};

struct ForgetItem {
  std::string id, short_id, time, host, kind, source, group, rule;
  std::vector<std::string> tags, reasons;
  bool keep = true;
  bool future_dated = false;
};

struct ForgetResult {
  bool dry_run = false;
  std::vector<ForgetItem> items;      // newest first within each group, groups in order
  size_t removed = 0, kept = 0;       // removed: also "would be removed" (dry run, unconfirmed)
  std::vector<std::string> warnings;  // why the plan needs confirmation (empty: it does not)
  bool needs_confirmation = false;    // set: nothing was removed
  std::string confirmation_reason;    // the warnings, one per line
  bool applied = false;               // the snapshot objects were deleted
  nlohmann::json to_json() const;     // forget --json (without "prune")
};

// Future-dated points and reasons for confirmation are reported through ctx.warn (codes
// "forget.future_dated", "forget.needs_confirmation"). Throws Error(Refused) for a named locked
// point or an append-only key that would remove anything, Error(Usage) for a bad policy.
ForgetResult forget(Repository& repo, const ForgetRequest& req, JobContext& ctx);

}  // namespace arca::ops
