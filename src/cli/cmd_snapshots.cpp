#include <iostream>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/name_format.h"
#include "repo/locks.h"

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
  set_command(*cmd, [&g, f] {
    auto repo = open_repository(g);
    auto locks = active_locks(load_locks(*repo), time(nullptr));
    std::vector<Snapshot> list = filter_snapshots(repo->list_snapshots(), *f);
    if (g.json) {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& s : list) {
        auto x = s.to_json();
        x["short_id"] = s.id.short_hex();
        nlohmann::json lj = nlohmann::json::array();
        if (auto it = locks.find(s.id); it != locks.end())
          for (const auto& l : it->second) lj.push_back({{"id", l.id.hex()}, {"mode", lock_mode_name(l.mode)}, {"until", l.until}});
        x["locks"] = std::move(lj);
        j.push_back(std::move(x));
      }
      print_json(j);
      return kExitOk;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : list) {
      std::string lock;
      if (auto it = locks.find(s.id); it != locks.end()) {
        // The strongest: compliance, then legal hold, then governance.
        const SnapshotLock* best = &it->second[0];
        for (const auto& l : it->second)
          if (l.mode == LockMode::Compliance || (l.mode == LockMode::LegalHold && best->mode == LockMode::Governance)) best = &l;
        lock = best->mode == LockMode::LegalHold ? "legal hold" : std::string(lock_mode_name(best->mode)) + " " + best->until.substr(0, 10);
      }
      rows.push_back({s.id.short_hex(), short_time(s.time), escape_name(s.host), s.source_kind, escape_name(join(s.tags, ",")),
                      human_bytes(s.stats.bytes), lock, escape_name(join(s.paths, " ")) + (s.partial ? "  (partial)" : "")});
    }
    print_table({"ID", "Time (UTC)", "Host", "Kind", "Tags", "Size", "Locked", "Paths"}, rows,
                {false, false, false, false, false, true, false, false});
    std::cout << counted(list.size(), "snapshot", "snapshots") << "\n";
    return kExitOk;
  });
}

}  // namespace arca
