#include "ops/diff.h"

#include <map>

#include "repo/tree_walk.h"
#include "util/name_format.h"

namespace arca::ops {

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

struct Entry {
  NodeType type;
  uint64_t size;
  std::vector<Id> content;
  uint32_t mode, uid, gid;
  int64_t mtime;
  std::string target;
};

std::map<std::string, Entry, TreeOrder> collect(Repository& repo, const Snapshot& s, JobContext& ctx) {
  std::map<std::string, Entry, TreeOrder> m;
  // Identical subtrees are identical everywhere below: the walk still visits them, which is
  // simple and fast enough since trees are cached by the OS.
  walk_tree(
      repo, content_root(repo, s),
      [&](const std::string& p, const Node& n) {
        ctx.cancel.check("diff");
        m[p] = {n.type, n.size, n.content, n.mode, n.uid, n.gid, n.mtime_ns, n.link_target};
        return true;
      },
      "", "snapshot " + s.id.short_hex());
  return m;
}

}  // namespace

nlohmann::json DiffResult::to_json() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : changes) {
    nlohmann::json j = {{"change", std::string(1, c.change)}};
    set_name_field(j, "path", c.path);
    out.push_back(std::move(j));
  }
  return {{"from", from.hex()},
          {"to", to.hex()},
          {"changes", out},
          {"added", added},
          {"removed", removed},
          {"modified", modified},
          {"metadata_changed", metadata_changed}};
}

DiffResult diff(Repository& repo, const DiffRequest& req, JobContext& ctx) {
  Snapshot a = resolve_snapshot(repo, req.from, req.filter), b = resolve_snapshot(repo, req.to, req.filter);
  auto ma = collect(repo, a, ctx), mb = collect(repo, b, ctx);
  DiffResult r;
  r.from = a.id;
  r.to = b.id;
  auto emit = [&](char c, const std::string& p, NodeType t) {
    r.changes.push_back({c, p + (t == NodeType::Dir ? "/" : "")});
  };
  // One pass over both sorted maps: changes come out in path order.
  auto ia = ma.begin();
  for (auto ib = mb.begin(); ia != ma.end() || ib != mb.end();) {
    if (ib == mb.end() || (ia != ma.end() && TreeOrder{}(ia->first, ib->first))) {
      emit('-', ia->first, ia->second.type);
      r.removed++;
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
      r.added++;
    } else if (it->second.type != e.type || it->second.content != e.content || it->second.target != e.target ||
               it->second.size != e.size) {
      emit('M', p, e.type);
      r.modified++;
    } else if (e.type != NodeType::Dir && (it->second.mode != e.mode || it->second.uid != e.uid ||
                                           it->second.gid != e.gid || it->second.mtime != e.mtime)) {
      emit('U', p, e.type);
      r.metadata_changed++;
    }
  }
  return r;
}

}  // namespace arca::ops
