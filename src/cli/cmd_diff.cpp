#include <iostream>
#include <map>

#include "cli/commands.h"
#include "ops/error_table.h"
#include "cli/name_format.h"
#include "repo/tree_walk.h"

namespace arca {

namespace {

// Path order as in a tree listing: a directory's entries right after it ('/' sorts before every
// other byte), so "a", "a/b", "a.txt" and not "a", "a.txt", "a/b".
struct TreeOrder {
  bool operator()(const std::string& x, const std::string& y) const {
    size_t n = std::min(x.size(), y.size());
    for (size_t i = 0; i < n; i++) {
      if (x[i] == y[i]) continue;
      if (x[i] == '/') return true;
      if (y[i] == '/') return false;
      return static_cast<unsigned char>(x[i]) < static_cast<unsigned char>(y[i]);
    }
    return x.size() < y.size();
  }
};

}  // namespace

void register_diff(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("diff", "Show what changed between two snapshots");
  add_global_options(*cmd, g);
  auto ids = std::make_shared<std::pair<std::string, std::string>>();
  auto filter = std::make_shared<SnapshotFilter>();
  cmd->add_option("from", ids->first,
                  "Older snapshot: id (or unique prefix), or 'latest' (the newest the selectors match)")
      ->required();
  cmd->add_option("to", ids->second, "Newer snapshot: id (or unique prefix), or 'latest'")->required();
  add_snapshot_filter_options(*cmd, *filter);
  set_command(*cmd, [&g, ids, filter] {
    auto repo = open_repository(g);
    Snapshot a = resolve_snapshot(*repo, ids->first, *filter), b = resolve_snapshot(*repo, ids->second, *filter);
    struct Entry {
      NodeType type;
      uint64_t size;
      std::vector<Id> content;
      uint32_t mode, uid, gid;
      int64_t mtime;
      std::string target;
    };
    auto collect = [&](const Snapshot& s) {
      std::map<std::string, Entry, TreeOrder> m;
      // Identical subtrees are identical everywhere below: the walk still visits them, which is
      // simple and fast enough since trees are cached by the OS.
      walk_tree(
          *repo, content_root(*repo, s),
          [&](const std::string& p, const Node& n) {
            m[p] = {n.type, n.size, n.content, n.mode, n.uid, n.gid, n.mtime_ns, n.link_target};
            return true;
          },
          "", "snapshot " + s.id.short_hex());
      return m;
    };
    auto ma = collect(a), mb = collect(b);
    nlohmann::json out = nlohmann::json::array();
    uint64_t added = 0, removed = 0, modified = 0, meta = 0;
    auto emit = [&](char c, const std::string& p, NodeType t) {
      std::string shown = p + (t == NodeType::Dir ? "/" : "");
      if (g.json) {
        nlohmann::json j = {{"change", std::string(1, c)}};
        set_name_field(j, "path", shown);
        out.push_back(std::move(j));
      } else {
        std::cout << c << "  " << escape_name(shown) << "\n";
      }
    };
    // One pass over both sorted maps: changes come out in path order.
    auto ia = ma.begin();
    for (auto ib = mb.begin(); ia != ma.end() || ib != mb.end();) {
      if (ib == mb.end() || (ia != ma.end() && TreeOrder{}(ia->first, ib->first))) {
        emit('-', ia->first, ia->second.type);
        removed++;
        ++ia;
        continue;
      }
      const std::string& p = ib->first;
      const Entry& e = ib->second;
      auto it = ia != ma.end() && ia->first == p ? ia : ma.end();
      ++ib;
      if (it != ma.end()) ++ia;
      if (it == ma.end()) {
        emit('+', p, e.type);
        added++;
      } else if (it->second.type != e.type || it->second.content != e.content || it->second.target != e.target ||
                 it->second.size != e.size) {
        emit('M', p, e.type);
        modified++;
      } else if (e.type != NodeType::Dir && (it->second.mode != e.mode || it->second.uid != e.uid ||
                                             it->second.gid != e.gid || it->second.mtime != e.mtime)) {
        emit('U', p, e.type);
        meta++;
      }
    }
    if (g.json)
      print_json({{"from", a.id.hex()},
                  {"to", b.id.hex()},
                  {"changes", out},
                  {"added", added},
                  {"removed", removed},
                  {"modified", modified},
                  {"metadata_changed", meta}});
    else
      std::cout << "\n"
                << added << " added, " << removed << " removed, " << modified << " modified, " << meta
                << " with changed metadata only\n";
    return kExitOk;
  });
}

}  // namespace arca
