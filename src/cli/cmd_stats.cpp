#include <iostream>

#include "cli/cli_job.h"
#include "cli/commands.h"
#include "ops/error_table.h"
#include "ops/stats.h"
#include "repo/envelope.h"

namespace arca {

void register_stats(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("stats",
                                 "Show sizes: logical (what the snapshots hold), after deduplication, "
                                 "and stored (after compression and encryption), with ratios");
  add_global_options(*cmd, g);
  auto refs = std::make_shared<std::vector<std::string>>();
  auto filter = std::make_shared<SnapshotFilter>();
  cmd->add_option("snapshots", *refs,
                  "Only these snapshots: ids (or unique prefixes) or 'latest' (default: every one the selectors match, "
                  "or the whole repository)");
  add_snapshot_filter_options(*cmd, *filter);
  set_command(*cmd, [&g, refs, filter] {
    auto repo = open_repository(g);
    CliJob job(g);
    ops::StatsResult r = ops::stats(*repo, {*refs, *filter}, job.ctx());
    if (g.json) {
      print_json(r.to_json());
      return kExitOk;
    }
    char buf[64];
    auto ratio = [&](double r) {  // no data, no ratio
      if (r <= 0) return std::string("-");
      snprintf(buf, sizeof buf, "%.2fx", r);
      return std::string(buf);
    };
    std::cout << "snapshots:            " << r.snapshots << " (" << counted(r.files, "file", "files") << ")\n"
              << "logical size:         " << human_bytes(r.logical) << "\n"
              << "after deduplication:  " << human_bytes(r.unique_raw) << " in " << counted(r.blobs, "blob", "blobs")
              << "\n"
              << "stored:               " << human_bytes(r.unique_stored) << " (" << human_bytes(r.compressed)
              << " compressed data + " << human_bytes(r.overhead) << " encryption envelopes, " << kEnvelopeOverhead
              << " bytes per blob)\n"
              << "repository on disk:   " << human_bytes(r.repo_bytes) << " (" << counted(r.packs, "pack", "packs")
              << ")\n"
              << "deduplication ratio:  " << ratio(r.dedup) << "\n"
              << "compression ratio:    " << ratio(r.compression)
              << " (data / compressed data, envelopes not counted)\n";
    snprintf(buf, sizeof buf, "%.1f", r.index_bytes_per_blob);
    std::cout << "index in memory:      " << human_bytes(r.index_memory) << " for "
              << counted(r.index_blobs, "blob", "blobs") << " (" << buf << " bytes/blob)\n";
    return kExitOk;
  });
}

}  // namespace arca
