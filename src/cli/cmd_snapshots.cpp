#include <iostream>

#include "cli/commands.h"
#include "ops/error_table.h"
#include "ops/snapshots.h"
#include "util/name_format.h"

namespace arca {

static std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); i++) out += (i ? sep : "") + v[i];
  return out;
}

void register_snapshots(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("snapshots", "List snapshots (recovery points)");
  add_global_options(*cmd, g);
  auto f = std::make_shared<SnapshotFilter>();
  add_snapshot_filter_options(*cmd, *f);
  cmd->add_option("--kind", f->kind, "Only snapshots of this source kind (" + join(known_source_kinds(), ", ") + ")");
  auto long_format = std::make_shared<bool>(false);
  cmd->add_flag("-l,--long", *long_format, "Also show which key wrote each snapshot");
  set_command(*cmd, [&g, f, long_format] {
    auto repo = open_repository(g);
    ops::SnapshotList list = ops::list_snapshots(*repo, *f);
    if (g.json) {
      print_json(list.to_json());
      return kExitOk;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : list.points) {
      const Snapshot& s = p.snap;
      std::string lock;
      if (!p.locks.empty()) {
        // The strongest: compliance, then legal hold, then governance.
        const SnapshotLock* best = &p.locks[0];
        for (const auto& l : p.locks)
          if (l.mode == LockMode::Compliance || (l.mode == LockMode::LegalHold && best->mode == LockMode::Governance))
            best = &l;
        lock = best->mode == LockMode::LegalHold
                   ? "legal hold"
                   : std::string(lock_mode_name(best->mode)) + " " + best->until.substr(0, 10);
      }
      std::vector<std::string> row{s.id.short_hex(),
                                   escape_name(short_time(s.time)) + (p.future.empty() ? "" : " (future!)"),
                                   escape_name(s.host),
                                   s.source_kind,
                                   escape_name(join(s.tags, ",")),
                                   human_bytes(s.stats.bytes),
                                   lock,
                                   escape_name(join(s.paths, " ")) + (s.partial ? "  (partial)" : "")};
      if (*long_format) {
        PointSignature v = p.signature;
        std::string key = s.key_id.empty() ? "unknown" : escape_name(s.key_id.substr(0, 8));
        row.insert(row.begin() + 3, v == PointSignature::Unsigned ? key : key + " (" + signature_name(v) + ")");
      }
      rows.push_back(std::move(row));
    }
    std::vector<std::string> head{"ID", "Time (UTC)", "Host", "Kind", "Tags", "Size", "Locked", "Paths"};
    std::vector<bool> right{false, false, false, false, false, true, false, false};
    if (*long_format) head.insert(head.begin() + 3, "Key"), right.insert(right.begin() + 3, false);
    print_table(head, rows, right);
    std::cout << counted(list.points.size(), "snapshot", "snapshots") << "\n";
    for (const auto& p : list.points)
      if (!p.future.empty())
        std::cerr << "warning: snapshot " << p.snap.id.short_hex() << " is future-dated (" << p.future
                  << "): 'latest' never picks it and forget does not count it; a host clock set forward, or a point "
                     "planted with a host's key (see docs/security.md)\n";
    return kExitOk;
  });
}

}  // namespace arca
