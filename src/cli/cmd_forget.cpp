#include <unistd.h>

#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "cli/commands.h"
#include "ops/error_table.h"
#include "cli/name_format.h"
#include "cli/prune_command.h"
#include "repo/config.h"
#include "repo/key_files.h"
#include "repo/locks.h"
#include "repo/retention_plan.h"
#include "repo/snapshot_filter.h"
#include "util/parallel_for.h"

namespace arca {

namespace {

struct ForgetArgs {
  std::vector<std::string> ids;
  int last = 0, hourly = 0, daily = 0, weekly = 0, monthly = 0, yearly = 0;
  std::string within, within_hourly, within_daily, within_weekly, within_monthly, within_yearly;
  std::vector<std::string> keep_tags;
  std::string policy_file, group_by = "host,source";
  std::string kind, host, source;
  std::vector<std::string> tags, paths;
  bool dry_run = false, yes = false, prune = false;
  PruneArgs prune_args;
};

RetentionConfig config_from_flags(const ForgetArgs& a) {
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

bool any_keep_flag(const ForgetArgs& a) {
  return a.last || a.hourly || a.daily || a.weekly || a.monthly || a.yearly || !a.within.empty() ||
         !a.within_hourly.empty() || !a.within_daily.empty() || !a.within_weekly.empty() || !a.within_monthly.empty() ||
         !a.within_yearly.empty() || !a.keep_tags.empty();
}

// Plans that remove every recovery point of a source, or whose rules contradict, go ahead only
// when confirmed: --yes, or "yes" typed at a terminal. Dry runs just show the warnings.
bool confirmed(const GlobalOptions& g, const std::vector<std::string>& reasons, bool yes, bool dry_run) {
  if (reasons.empty() || yes) return true;
  for (const auto& r : reasons) std::cerr << "warning: " << r << "\n";
  if (dry_run) return true;
  if (!isatty(0) || g.json)
    throw Error(ErrorKind::Refused,
                "refusing without confirmation (see the warnings above); re-run with --yes to go ahead");
  std::cerr << "Type 'yes' to go ahead: " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  if (answer != "yes") throw Error(ErrorKind::Refused, "not confirmed; nothing was removed");
  return true;
}

}  // namespace

void register_forget(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand(
      "forget",
      "Remove recovery points by a retention policy, or by id (metadata only; 'arca prune' frees the "
      "space). Locked recovery points are always kept");
  add_global_options(*cmd, g);
  auto a = std::make_shared<ForgetArgs>();
  cmd->add_option("ids", a->ids, "Recovery points to remove (ids or unique prefixes) instead of a policy");
  cmd->add_option("--keep-last", a->last, "Keep the N newest")->check(CLI::Range(1, 1000000));
  cmd->add_option("--keep-hourly", a->hourly, "Keep the newest of each of the last N hours (-1: all hours)")
      ->check(CLI::Range(-1, 1000000));
  cmd->add_option("--keep-daily", a->daily, "… of the last N days")->check(CLI::Range(-1, 1000000));
  cmd->add_option("--keep-weekly", a->weekly, "… of the last N ISO weeks")->check(CLI::Range(-1, 1000000));
  cmd->add_option("--keep-monthly", a->monthly, "… of the last N months")->check(CLI::Range(-1, 1000000));
  cmd->add_option("--keep-yearly", a->yearly, "… of the last N years")->check(CLI::Range(-1, 1000000));
  cmd->add_option("--keep-within", a->within,
                  "Keep all made within SPAN (e.g. 30d, 1y6mo) of the group's newest recovery point that is not "
                  "future-dated (points dated after this machine's clock are kept and not counted)");
  cmd->add_option("--keep-within-hourly", a->within_hourly, "Keep the newest of each hour within SPAN");
  cmd->add_option("--keep-within-daily", a->within_daily, "… of each day within SPAN");
  cmd->add_option("--keep-within-weekly", a->within_weekly, "… of each week within SPAN");
  cmd->add_option("--keep-within-monthly", a->within_monthly, "… of each month within SPAN");
  cmd->add_option("--keep-within-yearly", a->within_yearly, "… of each year within SPAN");
  add_tags_option(*cmd, "--keep-tag", a->keep_tags,
                  "Keep every recovery point with this tag (a,b or repeated: any of them)");
  cmd->add_option("--policy", a->policy_file,
                  "A JSON retention table: rules by kind, source, host and tags (docs/retention.md)");
  cmd->add_option("--group-by", a->group_by, "Apply the rules per group: host, source, tags (comma-separated) or none")
      ->capture_default_str();
  cmd->add_option("--kind", a->kind, "Only recovery points of this source kind (files, postgres, redis, kafka, …)");
  host_option(cmd->add_option("--host", a->host, "Only recovery points of this host"));
  cmd->add_option("--source", a->source, "Only recovery points of this source name");
  add_tags_option(*cmd, "--tag", a->tags, "Only recovery points with this tag (a,b or repeated: all must be present)");
  cmd->add_option("--path", a->paths,
                  "Only recovery points that backed up this path (relative paths are made absolute as backup does; "
                  "repeatable: all of them)");
  cmd->add_flag("-n,--dry-run", a->dry_run,
                "Show every recovery point as kept or removed, with the rule that decided; remove nothing");
  cmd->add_flag("-y,--yes", a->yes,
                "Confirm a plan that removes every recovery point of a source, has contradicting rules, or removes "
                "more than it keeps because of its newest points");
  cmd->add_flag("--prune", a->prune, "Run 'arca prune' afterwards");
  add_prune_options(*cmd, a->prune_args, "--prune-");
  set_command(*cmd, [&g, a] {
    auto repo = open_repository(g);
    int64_t now = time(nullptr);
    auto active = active_locks(load_locks(*repo), now);
    auto snaps = repo->list_snapshots();
    RetentionPlan plan;
    if (!a->ids.empty()) {
      if (any_keep_flag(*a) || !a->policy_file.empty())
        throw Error(ErrorKind::Usage, "give either recovery point ids or a retention policy, not both");
      plan = plan_named(*repo, a->ids, snaps, active);
    } else {
      if (!a->policy_file.empty() && (any_keep_flag(*a) || !a->kind.empty() || !a->host.empty() || !a->source.empty() ||
                                      !a->tags.empty() || !a->paths.empty()))
        throw Error(ErrorKind::Usage,
                    "--policy FILE holds the whole policy: do not combine it with --keep-* or filter options");
      RetentionConfig cfg = a->policy_file.empty() ? config_from_flags(*a) : config_from_file(a->policy_file);
      // Alone, a --source or --path that names nothing is a typo (not "remove 0 of 12").
      if (a->policy_file.empty() && (!a->source.empty() || !a->paths.empty()) && a->kind.empty() && a->host.empty() &&
          a->tags.empty())
        require_known_source(snaps, a->source, cfg.rules[0].paths);
      if (a->policy_file.empty()) require_known_tags(snaps, a->keep_tags);
      auto public_keys = signing_public_keys(repo->backend());  // to say whether the points it asks about are genuine
      plan = plan_retention(snaps, cfg, active, now, &public_keys);
    }
    for (const auto& p : plan.items)
      if (!p.future.empty())
        std::cerr << "warning: recovery point " << p.snap->id.short_hex() << " (host " << escape_name(p.snap->host)
                  << ") is future-dated: " << p.future << "; it is kept and does not count for retention (a host "
                  << "clock set forward, or a planted point: see docs/security.md)\n";
    if (!a->dry_run) refuse_append_only(*repo, plan);
    confirmed(g, plan.confirm, a->yes, a->dry_run);

    std::vector<const PlannedSnapshot*> doomed;
    for (const auto& p : plan.items)
      if (!p.keep) doomed.push_back(&p);
    if (!a->dry_run) apply_retention(*repo, plan);

    if (g.json) {
      nlohmann::json items = nlohmann::json::array();
      for (const auto& p : plan.items)
        items.push_back({{"id", p.snap->id.hex()},
                         {"short_id", p.snap->id.short_hex()},
                         {"time", p.snap->time},
                         {"host", p.snap->host},
                         {"kind", p.snap->source_kind},
                         {"source", source_name_of(*p.snap)},
                         {"tags", p.snap->tags},
                         {"group", p.group},
                         {"rule", p.rule},
                         {"keep", p.keep},
                         {"reasons", p.reasons},
                         {"future_dated", !p.future.empty()}});
      nlohmann::json out = {{"dry_run", a->dry_run},
                            {"snapshots", items},
                            {"removed", doomed.size()},
                            {"kept", plan.items.size() - doomed.size()},
                            {"warnings", plan.confirm}};
      if (a->prune && !a->dry_run) out["prune"] = run_prune_command(g, *repo, a->prune_args, true);
      print_json(out);
      return kExitOk;
    }
    if (!g.quiet) {
      std::string group;
      std::vector<std::vector<std::string>> rows;
      auto flush = [&] {
        if (rows.empty()) return;
        std::cout << escape_name(group) << ":\n";
        print_table({"ID", "Time (UTC)", "Kind", "Tags", "Decision", "Why"}, rows);
        std::cout << "\n";
        rows.clear();
      };
      for (const auto& p : plan.items) {
        if (p.group != group) flush();
        group = p.group;
        std::string tags, why;
        for (const auto& t : p.snap->tags) tags += (tags.empty() ? "" : ",") + t;
        for (const auto& r : p.reasons) why += (why.empty() ? "" : "; ") + r;
        rows.push_back(
            {p.snap->id.short_hex(), short_time(p.snap->time), p.snap->source_kind, escape_name(tags),
             p.keep ? (p.future.empty() ? "keep" : "keep (future-dated)") : (a->dry_run ? "would remove" : "removed"),
             why});
      }
      flush();
      std::cout << (a->dry_run ? "would remove " : "removed ") << doomed.size() << " of "
                << counted(plan.items.size(), "recovery point", "recovery points")
                << (a->dry_run ? " (dry run: nothing was changed)" : "") << "\n";
    }
    if (a->prune && !a->dry_run) run_prune_command(g, *repo, a->prune_args, false);
    return kExitOk;
  });
}

}  // namespace arca
