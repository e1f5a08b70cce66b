#include <iostream>

#include "cli/cli_job.h"
#include "cli/commands.h"
#include "cli/prune_command.h"
#include "ops/error_table.h"
#include "ops/prune.h"

namespace arca {

namespace {

void print_report(const ops::PruneResult& r, const std::string& grace) {
  const PruneStats& s = r.packs;
  const FamilySweepResult& w = r.wal;
  bool dry = r.dry_run;
  std::cout << "recovery points: " << s.snapshots << ", trees " << s.trees << ", blobs " << s.referenced_blobs
            << " needed of " << s.blobs << ", packs " << s.packs << " (" << human_bytes(s.stored_bytes_before) << ")\n";
  if (s.repacked_packs)
    std::cout << (dry ? "would repack " : "repacked ") << counted(s.repacked_packs, "pack", "packs") << " ("
              << counted(s.copied_blobs, "needed blob", "needed blobs") << ", " << human_bytes(s.copied_bytes)
              << " copied)\n";
  if (s.marked_packs)
    std::cout << (dry ? "would mark " : "marked ") << counted(s.marked_packs, "unneeded pack", "unneeded packs") << " ("
              << human_bytes(s.marked_bytes) << ") for deletion after the grace period (" << grace << ")\n";
  if (s.waiting_packs)
    std::cout << counted(s.waiting_packs, "pack", "packs") << " (" << human_bytes(s.waiting_bytes)
              << ") marked earlier " << (s.waiting_packs == 1 ? "waits" : "wait") << " for the grace period\n";
  if (s.rescued_packs)
    std::cout << counted(s.rescued_packs, "marked pack is", "marked packs are") << " needed again and "
              << (dry ? "would be kept\n" : "were kept\n");
  std::cout << (dry ? "would delete " : "deleted ") << counted(s.deleted_packs, "pack", "packs") << " ("
            << human_bytes(s.deleted_bytes) << ")";
  if (w.objects)
    std::cout << " and " << counted(w.objects, "WAL archive object", "WAL archive objects") << " ("
              << human_bytes(w.bytes) << ")";
  std::cout << "\n";
  for (const auto& n : w.notes) std::cout << "note: " << n << "\n";
  for (const auto& n : s.notes) std::cout << "note: " << n << "\n";
  if (!dry)
    std::cout << "repository packs: " << human_bytes(s.stored_bytes_before) << " -> "
              << human_bytes(s.stored_bytes_after) << "\n";
}

}  // namespace

void add_prune_options(CLI::App& cmd, ops::PruneRequest& a, const std::string& prefix) {
  cmd.add_option(prefix + "grace", a.grace,
                 "Delete only packs found unneeded at least this long ago by an earlier prune: longer than any backup "
                 "runs (24h, 2d, 1w, 30min, 90s; months are mo, a bare m is refused). 0 deletes at once and is refused "
                 "while a backup runs (exit 16), and a backup started while it runs is refused too (exit 16)")
      ->capture_default_str();
  cmd.add_option(prefix + "max-unused", a.max_unused, "Repack packs with at least this share of unused bytes")
      ->capture_default_str();
}

ops::PruneResult run_prune_command(const GlobalOptions& g, CliJob& job, Repository& repo, const ops::PruneRequest& a,
                                   bool json) {
  job.show_progress("prune", "trees");
  ops::PruneResult r = ops::prune(repo, a, job.ctx());
  job.stop_progress();
  if (!json && !g.quiet) print_report(r, a.grace);
  if (!json && r.damaged()) throw r.damage_error();
  return r;
}

void register_prune(CLI::App& app, GlobalOptions& g) {
  auto* cmd =
      app.add_subcommand("prune",
                         "Free the space no recovery point needs: mark unneeded packs, repack mostly-unused ones, and "
                         "delete what an earlier prune marked once the grace period is over. Safe while backups run");
  add_global_options(*cmd, g);
  auto a = std::make_shared<ops::PruneRequest>();
  auto unlock = std::make_shared<bool>(false);
  add_prune_options(*cmd, *a, "--");
  cmd->add_flag("-n,--dry-run", a->dry_run, "Show what would be marked, repacked and deleted, and the space freed");
  cmd->add_flag("--unlock", *unlock, "Remove the lock a crashed prune left (only when no prune is running)");
  set_command(*cmd, [&g, a, unlock] {
    auto repo = open_repository(g);
    if (*unlock) {
      ops::remove_prune_lock(*repo);
      if (!g.quiet) std::cout << "prune lock removed\n";
      return kExitOk;
    }
    CliJob job(g);
    auto r = run_prune_command(g, job, *repo, *a, g.json);
    if (g.json) print_json(r.to_json());
    return r.damaged() ? kExitCorrupt : kExitOk;
  });
}

}  // namespace arca
