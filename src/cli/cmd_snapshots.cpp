#include <iostream>
#include <map>

#include "cli/commands.h"
#include "ops/error_table.h"
#include "cli/name_format.h"
#include "repo/future_points.h"
#include "repo/locks.h"
#include "repo/point_signature.h"
#include "util/clock.h"

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
    int64_t now = clock_now();
    auto locks = active_locks(load_locks(*repo), now);
    std::vector<Snapshot> list = filter_snapshots(repo->list_snapshots(), *f);
    // Dated in the future: never 'latest', not counted by forget (see docs/security.md).
    std::map<Id, std::string> future;
    for (auto& [id, why] : future_dated_points(list, now)) future[id] = why;
    // Whether each point's key record is proven by its signature (see docs/security.md).
    auto public_keys = signing_public_keys(repo->backend());
    if (g.json) {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& s : list) {
        auto x = s.to_json();
        x["short_id"] = s.id.short_hex();
        x["key_id"] = s.key_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.key_id);
        x["signature"] = signature_name(verify_point(s, public_keys));
        x["future_dated"] = future.count(s.id) > 0;
        if (future.count(s.id)) x["future_dated_reason"] = future[s.id];
        nlohmann::json lj = nlohmann::json::array();
        if (auto it = locks.find(s.id); it != locks.end())
          for (const auto& l : it->second)
            lj.push_back({{"id", l.id.hex()}, {"mode", lock_mode_name(l.mode)}, {"until", l.until}});
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
          if (l.mode == LockMode::Compliance || (l.mode == LockMode::LegalHold && best->mode == LockMode::Governance))
            best = &l;
        lock = best->mode == LockMode::LegalHold
                   ? "legal hold"
                   : std::string(lock_mode_name(best->mode)) + " " + best->until.substr(0, 10);
      }
      std::vector<std::string> row{s.id.short_hex(),
                                   escape_name(short_time(s.time)) + (future.count(s.id) ? " (future!)" : ""),
                                   escape_name(s.host),
                                   s.source_kind,
                                   escape_name(join(s.tags, ",")),
                                   human_bytes(s.stats.bytes),
                                   lock,
                                   escape_name(join(s.paths, " ")) + (s.partial ? "  (partial)" : "")};
      if (*long_format) {
        PointSignature v = verify_point(s, public_keys);
        std::string key = s.key_id.empty() ? "unknown" : escape_name(s.key_id.substr(0, 8));
        row.insert(row.begin() + 3, v == PointSignature::Unsigned ? key : key + " (" + signature_name(v) + ")");
      }
      rows.push_back(std::move(row));
    }
    std::vector<std::string> head{"ID", "Time (UTC)", "Host", "Kind", "Tags", "Size", "Locked", "Paths"};
    std::vector<bool> right{false, false, false, false, false, true, false, false};
    if (*long_format) head.insert(head.begin() + 3, "Key"), right.insert(right.begin() + 3, false);
    print_table(head, rows, right);
    std::cout << counted(list.size(), "snapshot", "snapshots") << "\n";
    for (const auto& s : list)
      if (future.count(s.id))
        std::cerr << "warning: snapshot " << s.id.short_hex() << " is future-dated (" << future[s.id]
                  << "): 'latest' never picks it and forget does not count it; a host clock set forward, or a point "
                     "planted with a host's key (see docs/security.md)\n";
    return kExitOk;
  });
}

}  // namespace arca
