#include <iostream>

#include "cli/commands.h"
#include "ops/error_table.h"
#include "cli/progress_display.h"
#include "repo/check.h"

namespace arca {

// "10%" -> a random fraction; "n/t" -> restic's group n of t (every pack in exactly one group).
static void parse_subset(const std::string& s, CheckOptions& o) {
  try {
    size_t used = 0;
    if (!s.empty() && s.back() == '%') {
      double p = std::stod(s.substr(0, s.size() - 1), &used);
      if (used == s.size() - 1 && p > 0 && p <= 100) {
        o.subset = p / 100;
        return;
      }
    } else if (auto slash = s.find('/'); slash != std::string::npos) {
      size_t un = 0, ut = 0;
      unsigned long n = std::stoul(s.substr(0, slash), &un), t = std::stoul(s.substr(slash + 1), &ut);
      if (un == slash && ut == s.size() - slash - 1 && n >= 1 && n <= t && t <= 1000000) {
        o.group = uint32_t(n);
        o.groups = uint32_t(t);
        return;
      }
    }
  } catch (const std::exception&) {}
  throw Error(ErrorKind::Usage, "--read-data-subset '" + s +
                                    "': give a percentage like 10% (random packs) or n/t "
                                    "with 1 <= n <= t like 3/7 (group n of t fixed groups, as in restic)");
}

void register_check(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("check",
                                 "Verify the repository: structure always; stored data with --read-data "
                                 "(every pack) or --read-data-subset");
  add_global_options(*cmd, g);
  auto read_data = std::make_shared<bool>(false);
  auto subset = std::make_shared<std::string>();
  cmd->add_flag("--read-data", *read_data, "Read and authenticate every blob of every pack");
  cmd->add_option("--read-data-subset", *subset,
                  "Read a subset of packs: N% (random) or n/t (group n of t fixed groups: 1/7 … 7/7 read every "
                  "pack once)");
  set_command(*cmd, [&g, read_data, subset] {
    auto repo = open_repository(g);
    CheckOptions o;
    if (*read_data && !subset->empty())
      throw Error(ErrorKind::Usage, "--read-data reads every pack and --read-data-subset only some: give one of them");
    o.read_data = *read_data || !subset->empty();
    if (!subset->empty()) parse_subset(*subset, o);
    ProgressCounters progress;
    CheckResult r;
    {
      ProgressDisplay display(progress, "check", "packs", show_progress(g));
      r = check_repository(*repo, o, progress);
    }
    if (g.json) {
      nlohmann::json errs = nlohmann::json::array(), notes = nlohmann::json::array(), aff = nlohmann::json::array();
      for (const auto& e : r.errors) errs.push_back({{"object", e.object}, {"message", e.message}});
      for (const auto& e : r.notes) notes.push_back({{"object", e.object}, {"message", e.message}});
      nlohmann::json warns = nlohmann::json::array();
      for (const auto& e : r.warnings) warns.push_back({{"object", e.object}, {"message", e.message}});
      for (const auto& e : r.affected) aff.push_back({{"snapshot", e.snapshot}, {"path", e.path}});
      print_json({{"ok", r.ok()},
                  {"snapshots", r.snapshots},
                  {"trees", r.trees},
                  {"data_blobs", r.data_blobs},
                  {"packs", r.packs},
                  {"packs_read", r.packs_read},
                  {"bytes_read", r.bytes_read},
                  {"wal_objects", r.wal_objects},
                  {"wal_read", r.wal_read},
                  {"errors", errs},
                  {"warnings", warns},
                  {"notes", notes},
                  {"affected_files", aff}});
    } else {
      for (const auto& e : r.errors) std::cerr << "error: " << e.object << ": " << e.message << "\n";
      for (const auto& e : r.warnings) std::cerr << "warning: " << e.object << ": " << e.message << "\n";
      if (!g.quiet)
        for (const auto& e : r.notes) std::cout << "note: " << e.object << ": " << e.message << "\n";
      for (const auto& f : r.affected) std::cerr << "damaged: snapshot " << f.snapshot << " file " << f.path << "\n";
      if (!g.quiet) {
        std::cout << "checked " << r.snapshots << " snapshots, " << r.trees << " trees, " << r.data_blobs
                  << " data blobs in " << r.packs << " packs";
        if (r.wal_objects) std::cout << ", " << r.wal_objects << " WAL archive objects";
        if (o.read_data)
          std::cout << "; read " << r.packs_read << " packs"
                    << (r.wal_objects ? " and " + std::to_string(r.wal_read) + " WAL objects" : "") << " ("
                    << human_bytes(r.bytes_read) << ")";
        std::cout << "\n";
      }
      if (r.ok()) {
        if (!g.quiet) std::cout << "no errors found\n";
      } else {
        std::cerr << r.errors.size() << " error(s) found; " << r.affected.size()
                  << " file(s) in snapshots are affected\n";
      }
    }
    return r.ok() ? kExitOk : kExitCorrupt;
  });
}

}  // namespace arca
