// `arca drill run|list|show|check`: disaster-recovery drills (docs/drills.md). Flags and printing;
// the work is src/drill (run_drill, the report, the repository's drill records).
#include <fstream>
#include <iostream>

#include "cli/cli_job.h"
#include "cli/commands.h"
#include "cli/pg_common.h"
#include "drill/dr_assess.h"
#include "drill/drill_components.h"
#include "drill/drill_record.h"
#include "drill/drill_report.h"
#include "drill/drill_spec.h"
#include "ops/error_table.h"
#include "repo/key_files.h"
#include "util/clock.h"

namespace arca {

namespace {

// A refused drill file: every error, then exit 2, before anything is restored (`running`: said so).
drill::DrillSpec checked_spec(const std::string& path, bool running) {
  drill::DrillLoad load = drill::load_drill(path);
  if (load.spec) return *load.spec;
  for (const auto& e : load.errors) std::cerr << e.to_string(path) << "\n";
  throw Error(ErrorKind::Usage, path + ": " + std::to_string(load.errors.size()) +
                                    (load.errors.size() == 1 ? " error" : " errors") +
                                    (running ? ": nothing was restored" : ""));
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  if (!f) throw Error(ErrorKind::Io, "cannot write " + path);
}

void print_summary(const drill::DrillResult& r) {
  std::cout << "drill " << r.name << " (" << r.id.substr(0, 12) << "): " << r.verdict() << " in "
            << human_duration(r.finished_at - r.started_at) << "\n";
  for (const auto& c : r.components) {
    std::cout << "  " << c.name << " (" << drill::to_string(c.kind) << "): "
              << (!c.validated() ? "FAILED" : c.passed() ? "passed" : "objective missed") << ", RTO "
              << human_duration(c.rto_s);
    if (c.objectives.rto_s) std::cout << " (objective " << human_duration(double(*c.objectives.rto_s)) << ")";
    if (c.rpo_s) std::cout << ", RPO " << human_duration(*c.rpo_s);
    else if (c.objectives.rpo_s) std::cout << ", RPO none";  // nothing recovered
    if (c.objectives.rpo_s) std::cout << " (objective " << human_duration(double(*c.objectives.rpo_s)) << ")";
    std::cout << "\n";
    if (!c.error.empty()) std::cout << "    error: " << c.error << "\n";
    for (const auto& k : c.checks)
      if (!k.passed && !k.skipped) std::cout << "    [FAIL] " << k.name << ": " << k.detail << "\n";
  }
}

struct RunOptions {
  std::string file, report_md, report_html, report_json;
  bool no_record = false;
};

void register_drill_run(CLI::App& drill, GlobalOptions& g) {
  auto* cmd = drill.add_subcommand(
      "run",
      "Restore every component a drill file names, validate it, measure RTO and RPO against the objectives, and "
      "store the report in the repository. Exit 12 if a component fails to restore or validate, 17 if only an "
      "objective is missed");
  add_global_options(*cmd, g);
  auto o = std::make_shared<RunOptions>();
  cmd->add_option("file", o->file, "The drill file (YAML, docs/drills.md)")->required();
  cmd->add_option("--markdown", o->report_md, "Also write the report as Markdown to this file");
  cmd->add_option("--html", o->report_html, "Also write the report as a self-contained HTML page to this file");
  cmd->add_option("--report", o->report_json, "Also write the JSON report to this file");
  cmd->add_flag("--no-record", o->no_record, "Do not store the report in the repository");
  set_command(*cmd, [&g, o] {
    drill::DrillSpec spec = checked_spec(o->file, true);
    // Where it would write, before the password is asked or anything restored (and recorded as a
    // failed drill, which it is not).
    if (auto problems = drill::check_targets(spec); !problems.empty()) {
      for (const auto& p : problems) std::cerr << o->file << ": " << p << "\n";
      throw Error(ErrorKind::Usage, o->file + ": cannot restore where the drill file says: nothing was restored");
    }
    // The password is asked once; each component opens its own repository handle with it.
    Credentials creds = get_credentials(g);
    auto repo = open_repository(g);
    for (const auto& gone : drill::remove_stale_scratch(drill::scratch_parent(spec)))
      if (!g.quiet) std::cerr << "removed what a killed drill left: " << gone << "\n";
    drill::DrillEnvironment env;
    env.open_repository = [&g, creds] { return Repository::open(open_repo_backend(g), creds); };
    env.wal_fetch_command = [&g](const std::string& system_id) {
      std::string note;
      return wal_fetch_command(g, system_id, note);
    };
    drill::DrillResult r;
    {
      CliJob job(g);
      env.ctx = &job.ctx();
      r = drill::run_drill(spec, env);
    }
    if (!o->no_record) drill::save_drill_record(*repo, r);
    if (!o->report_md.empty()) write_file(o->report_md, drill::to_markdown(r));
    if (!o->report_html.empty()) write_file(o->report_html, drill::to_html(r));
    if (!o->report_json.empty()) write_file(o->report_json, drill::to_json(r).dump(2) + "\n");
    if (g.json)
      print_json(drill::to_json(r));
    else if (!g.quiet)
      print_summary(r);
    return r.exit_code();
  });
}

void register_drill_check(CLI::App& drill, GlobalOptions& g) {
  auto* cmd = drill.add_subcommand("check", "Check a drill file without restoring anything: every error with its line");
  auto file = std::make_shared<std::string>();
  cmd->add_option("file", *file, "The drill file")->required();
  set_command(*cmd, [&g, file] {
    drill::DrillSpec spec = checked_spec(*file, false);
    if (!g.quiet)
      std::cout << *file << ": drill " << spec.name << ", " << spec.components.size() << " component"
                << (spec.components.size() == 1 ? "" : "s") << ": ok\n";
    return kExitOk;
  });
}

void register_drill_list(CLI::App& drill, GlobalOptions& g) {
  auto* cmd = drill.add_subcommand("list", "The drills recorded in the repository, oldest first");
  add_global_options(*cmd, g);
  set_command(*cmd, [&g] {
    auto repo = open_repository(g);
    auto records = drill::list_drill_records(*repo);
    if (g.json) {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& r : records) a.push_back(drill::to_json(r));
      print_json(a);
      return kExitOk;
    }
    if (records.empty()) {
      if (!g.quiet) std::cout << "no drill recorded yet: 'arca drill run FILE' runs one\n";
      return kExitOk;
    }
    for (const auto& r : records) {
      std::cout << r.id.substr(0, 12) << "  " << rfc3339_utc(r.started_at) << "  " << r.name << "  "
                << r.verdict() << "  " << r.components.size()
                << (r.components.size() == 1 ? " component, " : " components, ")
                << human_duration(r.finished_at - r.started_at) << "\n";
    }
    return kExitOk;
  });
}

void register_drill_show(CLI::App& drill, GlobalOptions& g) {
  auto* cmd = drill.add_subcommand("show", "One recorded drill's report (Markdown; --json, or --html FILE)");
  add_global_options(*cmd, g);
  auto id = std::make_shared<std::string>();
  auto html = std::make_shared<std::string>();
  cmd->add_option("id", *id, "The drill's id (or a unique prefix)")->required();
  cmd->add_option("--html", *html, "Write the report as an HTML page to this file");
  set_command(*cmd, [&g, id, html] {
    auto repo = open_repository(g);
    drill::DrillResult r = drill::load_drill_record(*repo, *id);
    if (!html->empty()) write_file(*html, drill::to_html(r));
    if (g.json)
      print_json(drill::to_json(r));
    else if (!g.quiet && html->empty())
      std::cout << drill::to_markdown(r);
    return kExitOk;
  });
}

void print_assessment(const drill::Assessment& a) {
  std::cout << "disaster-recovery assessment at " << rfc3339_utc(a.now) << ": " << (a.go() ? "GO" : "NO-GO") << "\n";
  for (const auto& c : a.components) {
    std::cout << "  " << (c.go() ? "go    " : "NO-GO ") << c.name << " (" << drill::to_string(c.kind) << "): ";
    if (c.snapshot_id.empty())
      std::cout << "no restorable point";
    else
      std::cout << "newest point " << c.snapshot_id.substr(0, 8) << ", " << human_duration(c.age_s.value_or(0)) << " old";
    if (c.objectives.rpo_s) std::cout << " (RPO objective " << human_duration(double(*c.objectives.rpo_s)) << ")";
    if (c.last_drill_rto_s) std::cout << "; last drill RTO " << human_duration(*c.last_drill_rto_s);
    if (c.objectives.rto_s) std::cout << " (RTO objective " << human_duration(double(*c.objectives.rto_s)) << ")";
    std::cout << "\n";
    // A missed RPO names its basis in the problem already.
    if (!c.age_basis.empty() && c.rpo_ok != false) std::cout << "      age from the " << c.age_basis << "\n";
    for (const auto& p : c.problems) std::cout << "      " << p << "\n";
  }
}

}  // namespace

// `arca dr assess FILE`: go/no-go before a failover, from the repository alone (no restore).
void register_dr(CLI::App& app, GlobalOptions& g) {
  auto* dr = app.add_subcommand("dr", "Disaster recovery: readiness before a failover");
  dr->require_subcommand(1);
  auto* cmd = dr->add_subcommand(
      "assess",
      "For each component of a drill file: the newest restorable point and its age against the RPO objective, the "
      "RTO of the last recorded drill against the RTO objective, and GO or NO-GO (exit 0 GO, 17 NO-GO). Restores "
      "nothing");
  add_global_options(*cmd, g);
  auto file = std::make_shared<std::string>();
  cmd->add_option("file", *file, "The drill file naming the components and their objectives")->required();
  set_command(*cmd, [&g, file] {
    drill::DrillSpec spec = checked_spec(*file, false);
    auto repo = open_repository(g);
    drill::Assessment a = drill::assess(spec, *repo, static_cast<double>(clock_now()));
    if (g.json)
      print_json(drill::to_json(a));
    else if (!g.quiet)
      print_assessment(a);
    return a.go() ? kExitOk : kExitObjective;
  });
}

void register_drill(CLI::App& app, GlobalOptions& g) {
  auto* drill = app.add_subcommand(
      "drill", "Disaster-recovery drills: restore, validate, measure RTO and RPO against the objectives");
  drill->require_subcommand(1);
  register_drill_run(*drill, g);
  register_drill_check(*drill, g);
  register_drill_list(*drill, g);
  register_drill_show(*drill, g);
}

}  // namespace arca
