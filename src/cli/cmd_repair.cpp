// arca repair index | snapshots: the ways out of damaged index and snapshot objects.
#include <unistd.h>

#include <iostream>

#include "cli/cli_job.h"
#include "cli/commands.h"
#include "ops/error_table.h"
#include "ops/repair.h"

namespace arca {

namespace {

int repair_index_command(const GlobalOptions& g, bool dry_run, const std::vector<uint32_t>& lost) {
  auto repo = open_repository(g);
  CliJob job(g);
  job.show_progress("repair index: read", "pack headers");
  auto report = ops::repair_index(*repo, {dry_run, {lost.begin(), lost.end()}}, job.ctx());
  job.stop_progress();
  const RepairIndexResult& r = report.result;
  int rc = r.complete() ? kExitOk : kExitPartial;
  if (g.json) {
    print_json(report.to_json());
    return rc;
  }
  for (const auto& d : r.damaged_index) std::cerr << "damaged: " << d << "\n";
  for (const auto& p : r.kept_from_old)
    std::cerr << "warning: " << p << "; kept as the old index listed it (run 'arca check --read-data')\n";
  for (const auto& p : r.unreadable_packs)
    std::cerr << "error: " << p << "; no intact index lists it, so its blobs stay unavailable "
              << "(run 'arca check' to see what needs them)\n";
  for (const auto& f : r.remove_failed) std::cerr << "error: could not remove " << f << "\n";
  if (!g.quiet) {
    std::cout << (dry_run ? "would index " : "indexed ") << r.packs << " packs (" << r.blobs << " blobs), "
              << r.packs_added << " of them not listed by any intact index file";
    if (r.missing_packs) std::cout << "; dropped " << r.missing_packs << " listed pack(s) that are not stored";
    std::cout << "\n";
    if (dry_run)
      std::cout << "would replace " << r.damaged_index.size() << " damaged index object(s) and the intact ones\n";
    else
      std::cout << "wrote " << r.index_files_written << " index file(s); removed " << r.removed.size()
                << " old index object(s)\n";
  }
  return rc;
}

void list_damaged(const ops::RepairSnapshotsResult& r) {
  for (const auto& d : r.damaged) {
    if (!d.locked_by.empty())
      std::cerr << "kept: " << d.name << ": " << d.reason << " (protected by " << d.locked_by << ")\n";
    else if (!d.unavailable_key)
      std::cerr << "damaged: " << d.name << ": " << d.reason << "\n";
    else if (removable(d, r.lost_key_versions))
      std::cerr << "key version lost: " << d.name << ": " << d.reason << "\n";
    else
      std::cerr << "kept: " << d.name << ": " << d.reason << " (only if data key version " << *d.unavailable_key
                << " is truly lost for good: --lost-key-version " << *d.unavailable_key << ")\n";
  }
}

int repair_snapshots_command(const GlobalOptions& g, bool dry_run, bool yes, const std::vector<uint32_t>& lost) {
  auto repo = open_repository(g);
  CliJob job(g);
  bool listed = false;
  ops::RepairSnapshotsRequest req{dry_run, yes, {lost.begin(), lost.end()}, nullptr};
  req.ask = [&](const ops::RepairSnapshotsResult& found) {
    if (!g.json) list_damaged(found);
    listed = true;
    if (!isatty(0) || g.json) return false;
    std::cerr << "Remove these " << found.removable << " snapshot object(s)? Type 'yes' to go ahead: " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "yes") throw Error(ErrorKind::Refused, "not confirmed; nothing was removed");
    return true;
  };
  auto r = ops::repair_snapshots(*repo, req, job.ctx());
  if (r.needs_confirmation)
    throw Error(ErrorKind::Refused, "refusing to remove " + std::to_string(r.removable) +
                                        " snapshot object(s) without confirmation; re-run with --yes");
  // Points kept (a keyring entry is missing, or a lock protects them) still block prune: not a clean result.
  int rc = r.kept ? kExitCorrupt : kExitOk;
  if (g.json) {
    print_json(r.to_json());
    return rc;
  }
  if (!listed) list_damaged(r);
  if (!g.quiet || r.kept) {
    if (r.damaged.empty())
      std::cout << "no damaged snapshot objects\n";
    else if (r.removes())
      std::cout << "removed " << r.removed
                << " snapshot object(s); run 'arca prune' to free the data only they needed\n";
    else if (r.removable)
      std::cout << r.removable << " snapshot object(s) would be removed\n";
  }
  size_t locked = r.locked();
  if (r.kept > locked)
    std::cerr << "error: kept " << r.kept - locked << " recovery point(s) that are unreadable only because a keyring "
              << "entry is missing or damaged: restore it (from a copy of the repository or a backup of it) and they "
              << "read again\n";
  if (locked)
    std::cerr << "error: kept " << locked << " damaged recovery point(s) that an active lock protects; prune stays "
              << "blocked until the lock ends or is released ('arca lock list')\n";
  return rc;
}

}  // namespace

void register_repair(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("repair", "Mend a damaged repository: rebuild the index, remove damaged snapshots");
  cmd->require_subcommand(1);
  auto dry_run = std::make_shared<bool>(false);
  auto yes = std::make_shared<bool>(false);

  auto* index = cmd->add_subcommand("index",
                                    "Rebuild the index from every pack's own header, then remove the old index "
                                    "objects (damaged or not); needs an operator's key");
  add_global_options(*index, g);
  index->add_flag("-n,--dry-run", *dry_run, "Read the pack headers and say what would be written; change nothing");
  auto lost_index = std::make_shared<std::vector<uint32_t>>();
  index->add_option("--lost-key-version", *lost_index,
                    "Drop index objects and packs sealed with this data key version, whose keyring entry is missing "
                    "or damaged; only when it is truly lost. Without it the repair stops before changing anything");
  set_command(*index, [&g, dry_run, lost_index] { return repair_index_command(g, *dry_run, *lost_index); });

  auto* snaps = cmd->add_subcommand("snapshots",
                                    "Find snapshot objects that cannot be read and remove them (they block "
                                    "'arca prune'); needs an operator's key");
  add_global_options(*snaps, g);
  snaps->add_flag("-n,--dry-run", *dry_run, "Only list the damaged snapshot objects");
  snaps->add_flag("-y,--yes", *yes, "Remove them without asking");
  auto lost = std::make_shared<std::vector<uint32_t>>();
  snaps->add_option("--lost-key-version", *lost,
                    "Also remove points sealed with this data key version, whose keyring entry is missing or "
                    "damaged; only when it is truly lost (no copy of keyring/<version> anywhere). Without it such "
                    "points are kept: restoring the entry makes them readable");
  set_command(*snaps, [&g, dry_run, yes, lost] { return repair_snapshots_command(g, *dry_run, *yes, *lost); });
}

}  // namespace arca
