#include <unistd.h>

#include <iostream>

#include "cli/cli_job.h"
#include "cli/commands.h"
#include "cli/prune_command.h"
#include "ops/error_table.h"
#include "ops/forget.h"
#include "util/name_format.h"

namespace arca {

namespace {

struct ForgetArgs {
  ops::ForgetRequest req;
  bool prune = false;
  ops::PruneRequest prune_req;
};

// The plan's warnings are on stderr already; a terminal can answer, anything else is refused.
bool ask_yes(const GlobalOptions& g) {
  if (!isatty(0) || g.json) return false;
  std::cerr << "Type 'yes' to go ahead: " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  if (answer != "yes") throw Error(ErrorKind::Refused, "not confirmed; nothing was removed");
  return true;
}

void print_plan(const ops::ForgetResult& r) {
  std::string group;
  std::vector<std::vector<std::string>> rows;
  auto flush = [&] {
    if (rows.empty()) return;
    std::cout << escape_name(group) << ":\n";
    print_table({"ID", "Time (UTC)", "Kind", "Tags", "Decision", "Why"}, rows);
    std::cout << "\n";
    rows.clear();
  };
  for (const auto& p : r.items) {
    if (p.group != group) flush();
    group = p.group;
    std::string tags, why;
    for (const auto& t : p.tags) tags += (tags.empty() ? "" : ",") + t;
    for (const auto& w : p.reasons) why += (why.empty() ? "" : "; ") + w;
    rows.push_back(
        {p.short_id, short_time(p.time), p.kind, escape_name(tags),
         p.keep ? (p.future_dated ? "keep (future-dated)" : "keep") : (r.dry_run ? "would remove" : "removed"), why});
  }
  flush();
  std::cout << (r.dry_run ? "would remove " : "removed ") << r.removed << " of "
            << counted(r.items.size(), "recovery point", "recovery points")
            << (r.dry_run ? " (dry run: nothing was changed)" : "") << "\n";
}

void add_keep_options(CLI::App& cmd, ops::KeepOptions& k) {
  cmd.add_option("--keep-last", k.last, "Keep the N newest")->check(CLI::Range(1, 1000000));
  cmd.add_option("--keep-hourly", k.hourly, "Keep the newest of each of the last N hours (-1: all hours)")
      ->check(CLI::Range(-1, 1000000));
  cmd.add_option("--keep-daily", k.daily, "… of the last N days")->check(CLI::Range(-1, 1000000));
  cmd.add_option("--keep-weekly", k.weekly, "… of the last N ISO weeks")->check(CLI::Range(-1, 1000000));
  cmd.add_option("--keep-monthly", k.monthly, "… of the last N months")->check(CLI::Range(-1, 1000000));
  cmd.add_option("--keep-yearly", k.yearly, "… of the last N years")->check(CLI::Range(-1, 1000000));
  cmd.add_option("--keep-within", k.within,
                 "Keep all made within SPAN (e.g. 30d, 1y6mo) of the group's newest recovery point that is not "
                 "future-dated (points dated after this machine's clock are kept and not counted)");
  cmd.add_option("--keep-within-hourly", k.within_hourly, "Keep the newest of each hour within SPAN");
  cmd.add_option("--keep-within-daily", k.within_daily, "… of each day within SPAN");
  cmd.add_option("--keep-within-weekly", k.within_weekly, "… of each week within SPAN");
  cmd.add_option("--keep-within-monthly", k.within_monthly, "… of each month within SPAN");
  cmd.add_option("--keep-within-yearly", k.within_yearly, "… of each year within SPAN");
  add_tags_option(cmd, "--keep-tag", k.keep_tags,
                  "Keep every recovery point with this tag (a,b or repeated: any of them)");
}

}  // namespace

void register_forget(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand(
      "forget",
      "Remove recovery points by a retention policy, or by id (metadata only; 'arca prune' frees the "
      "space). Locked recovery points are always kept");
  add_global_options(*cmd, g);
  auto a = std::make_shared<ForgetArgs>();
  ops::KeepOptions& k = a->req.keep;
  cmd->add_option("ids", a->req.ids, "Recovery points to remove (ids or unique prefixes) instead of a policy");
  add_keep_options(*cmd, k);
  cmd->add_option("--policy", a->req.policy_file,
                  "A JSON retention table: rules by kind, source, host and tags (docs/retention.md)");
  cmd->add_option("--group-by", k.group_by, "Apply the rules per group: host, source, tags (comma-separated) or none")
      ->capture_default_str();
  cmd->add_option("--kind", k.kind, "Only recovery points of this source kind (files, postgres, redis, kafka, …)");
  host_option(cmd->add_option("--host", k.host, "Only recovery points of this host"));
  cmd->add_option("--source", k.source, "Only recovery points of this source name");
  add_tags_option(*cmd, "--tag", k.tags, "Only recovery points with this tag (a,b or repeated: all must be present)");
  cmd->add_option("--path", k.paths,
                  "Only recovery points that backed up this path (relative paths are made absolute as backup does; "
                  "repeatable: all of them)");
  cmd->add_flag("-n,--dry-run", a->req.dry_run,
                "Show every recovery point as kept or removed, with the rule that decided; remove nothing");
  cmd->add_flag("-y,--yes", a->req.confirmed,
                "Confirm a plan that removes every recovery point of a source, has contradicting rules, or removes "
                "more than it keeps because of its newest points");
  cmd->add_flag("--prune", a->prune, "Run 'arca prune' afterwards");
  add_prune_options(*cmd, a->prune_req, "--prune-");
  set_command(*cmd, [&g, a] {
    auto repo = open_repository(g);
    CliJob job(g);
    StderrEvents warnings(false, false);  // forget's warnings show even with --quiet
    job.ctx().events = &warnings;
    ops::ForgetRequest req = a->req;
    req.ask = [&g](const std::vector<std::string>&) { return ask_yes(g); };
    ops::ForgetResult r = ops::forget(*repo, req, job.ctx());
    if (r.needs_confirmation)
      throw Error(ErrorKind::Refused,
                  "refusing without confirmation (see the warnings above); re-run with --yes to go ahead");
    bool prune = a->prune && !r.dry_run;
    if (g.json) {
      nlohmann::json out = r.to_json();
      if (prune) out["prune"] = run_prune_command(g, job, *repo, a->prune_req, true).to_json();
      print_json(out);
      return kExitOk;
    }
    if (!g.quiet) print_plan(r);
    if (prune) run_prune_command(g, job, *repo, a->prune_req, false);
    return kExitOk;
  });
}

}  // namespace arca
