#include <iostream>

#include "cli/cli_job.h"
#include "cli/commands.h"
#include "ops/check.h"
#include "ops/error_table.h"

namespace arca {

void register_check(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("check",
                                 "Verify the repository: structure always; stored data with --read-data "
                                 "(every pack) or --read-data-subset");
  add_global_options(*cmd, g);
  auto req = std::make_shared<ops::CheckRequest>();
  cmd->add_flag("--read-data", req->read_data, "Read and authenticate every blob of every pack");
  cmd->add_option("--read-data-subset", req->subset,
                  "Read a subset of packs: N% (random) or n/t (group n of t fixed groups: 1/7 … 7/7 read every "
                  "pack once)");
  set_command(*cmd, [&g, req] {
    auto repo = open_repository(g);
    CliJob job(g);
    job.show_progress("check", "packs");
    ops::CheckReport report = ops::check(*repo, *req, job.ctx());
    job.stop_progress();
    const CheckResult& r = report.result;
    if (g.json) {
      print_json(report.to_json());
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
        if (report.read_data)
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
