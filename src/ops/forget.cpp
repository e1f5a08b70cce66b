#include "ops/forget.h"

#include <ctime>
#include <fstream>
#include <sstream>

#include "repo/future_points.h"
#include "repo/key_files.h"
#include "repo/locks.h"
#include "repo/retention_plan.h"
#include "repo/snapshot_filter.h"

namespace arca::ops {

namespace {

RetentionConfig config_from_options(const KeepOptions& a) {
  RetentionConfig cfg;
  cfg.group_by = parse_group_by(a.group_by);
  RetentionRule r;
  r.name = "command line";
  r.from_flags = true;
  r.kind = a.kind;
  r.host = a.host;
  r.source = a.source;
  r.tags = a.tags;
  r.paths = absolute_paths(a.paths);
  RetentionPolicy& p = r.keep;
  p.last = a.last, p.hourly = a.hourly, p.daily = a.daily, p.weekly = a.weekly, p.monthly = a.monthly,
  p.yearly = a.yearly;
  auto span = [](const std::string& s, std::optional<CalendarSpan>& out) {
    if (!s.empty()) out = parse_span(s);
  };
  span(a.within, p.within);
  span(a.within_hourly, p.within_hourly);
  span(a.within_daily, p.within_daily);
  span(a.within_weekly, p.within_weekly);
  span(a.within_monthly, p.within_monthly);
  span(a.within_yearly, p.within_yearly);
  p.tags = a.keep_tags;
  if (p.empty())
    throw Error(ErrorKind::Usage,
                "no retention rule given: use --keep-last, --keep-daily, --keep-within … or --policy FILE, "
                "or name the recovery points to forget");
  cfg.rules.push_back(std::move(r));
  return cfg;
}

RetentionConfig config_from_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw Error(ErrorKind::Usage, "cannot read policy file " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::Usage, "policy file " + path + " is not valid JSON: " + e.what());
  }
  return parse_retention_config(j, "policy file " + path);
}

RetentionPlan make_plan(Repository& repo, const ForgetRequest& req, const std::vector<Snapshot>& snaps,
                        const std::map<Id, std::vector<SnapshotLock>>& active, int64_t now) {
  const KeepOptions& k = req.keep;
  if (!req.ids.empty()) {
    if (k.any_keep() || !req.policy_file.empty())
      throw Error(ErrorKind::Usage, "give either recovery point ids or a retention policy, not both");
    return plan_named(repo, req.ids, snaps, active);
  }
  if (!req.policy_file.empty() && (k.any_keep() || k.any_filter()))
    throw Error(ErrorKind::Usage,
                "--policy FILE holds the whole policy: do not combine it with --keep-* or filter options");
  RetentionConfig cfg = req.policy_file.empty() ? config_from_options(k) : config_from_file(req.policy_file);
  // Alone, a --source or --path that names nothing is a typo (not "remove 0 of 12").
  if (req.policy_file.empty() && (!k.source.empty() || !k.paths.empty()) && k.kind.empty() && k.host.empty() &&
      k.tags.empty())
    require_known_source(snaps, k.source, cfg.rules[0].paths);
  if (req.policy_file.empty()) require_known_tags(snaps, k.keep_tags);
  auto public_keys = signing_public_keys(repo.backend());  // to say whether the points it asks about are genuine
  return plan_retention(snaps, cfg, active, now, &public_keys);
}

}  // namespace

bool KeepOptions::any_keep() const {
  return last || hourly || daily || weekly || monthly || yearly || !within.empty() || !within_hourly.empty() ||
         !within_daily.empty() || !within_weekly.empty() || !within_monthly.empty() || !within_yearly.empty() ||
         !keep_tags.empty();
}

bool KeepOptions::any_filter() const {
  return !kind.empty() || !host.empty() || !source.empty() || !tags.empty() || !paths.empty();
}

nlohmann::json ForgetResult::to_json() const {
  nlohmann::json snaps = nlohmann::json::array();
  for (const auto& p : items)
    snaps.push_back({{"id", p.id},
                     {"short_id", p.short_id},
                     {"time", p.time},
                     {"host", p.host},
                     {"kind", p.kind},
                     {"source", p.source},
                     {"tags", p.tags},
                     {"group", p.group},
                     {"rule", p.rule},
                     {"keep", p.keep},
                     {"reasons", p.reasons},
                     {"future_dated", p.future_dated}});
  return {{"dry_run", dry_run}, {"snapshots", snaps}, {"removed", removed}, {"kept", kept}, {"warnings", warnings}};
}

ForgetResult forget(Repository& repo, const ForgetRequest& req, JobContext& ctx) {
  int64_t now = time(nullptr);
  auto active = active_locks(load_locks(repo), now);
  auto snaps = repo.list_snapshots();
  RetentionPlan plan = make_plan(repo, req, snaps, active, now);

  ForgetResult r;
  r.dry_run = req.dry_run;
  r.warnings = plan.confirm;
  for (const auto& p : plan.items) {
    const Snapshot& s = *p.snap;
    r.items.push_back({s.id.hex(), s.id.short_hex(), s.time, s.host, s.source_kind, source_name_of(s), p.group, p.rule,
                       s.tags, p.reasons, p.keep, !p.future.empty()});
    (p.keep ? r.kept : r.removed)++;
    if (!p.future.empty())
      ctx.warn("forget.future_dated",
               "recovery point " + s.id.short_hex() + " (host " + printable(s.host) + ") is future-dated: " + p.future +
                   "; it is kept and does not count for retention (a host clock set forward, or a planted point: "
                   "see docs/security.md)",
               {{"id", s.id.hex()}, {"host", s.host}, {"why", p.future}});
  }
  if (!req.dry_run) refuse_append_only(repo, plan);
  // Plans that remove every recovery point of a source, or whose rules contradict, go ahead only
  // when confirmed. Dry runs just show the warnings.
  if (!plan.confirm.empty() && !req.confirmed) {
    for (const auto& why : plan.confirm) ctx.warn("forget.needs_confirmation", why);
    if (!req.dry_run && !(req.ask && req.ask(plan.confirm))) {
      r.needs_confirmation = true;
      for (const auto& why : plan.confirm) r.confirmation_reason += (r.confirmation_reason.empty() ? "" : "\n") + why;
      return r;
    }
  }
  if (req.dry_run) return r;
  ctx.cancel.check("forget");
  apply_retention(repo, plan);
  r.applied = true;
  return r;
}

}  // namespace arca::ops
