#include "repo/tree_walk.h"

#include <algorithm>

namespace arca {

TreeShape tree_shape(const Tree& t) {
  TreeShape s;
  s.entries = t.nodes.size();
  for (const auto& n : t.nodes)
    if (n.type == NodeType::Dir && n.subtree) s.subdirs.push_back(*n.subtree);
  return s;
}

uint64_t expanded_entries(const Id& root, const std::function<std::optional<TreeShape>(const Id&)>& shape,
                          std::unordered_map<Id, uint64_t, IdHash>& memo) {
  static constexpr uint64_t cap = kMaxTreeEntries + 1;  // saturating: 2^64 paths must not wrap
  auto add = [](uint64_t a, uint64_t b) { return std::min(cap, a + std::min(cap, b)); };
  if (auto it = memo.find(root); it != memo.end()) return it->second;
  struct Frame {
    Id id;
    TreeShape shape;
    size_t next = 0;
    uint64_t sum = 0;
  };
  auto frame = [&](const Id& id) {
    Frame f{id, shape(id).value_or(TreeShape{}), 0, 0};
    f.sum = std::min(cap, f.shape.entries);
    return f;
  };
  // Post-order with an explicit stack; trees are content-addressed, so there are no cycles.
  std::vector<Frame> stack;
  stack.push_back(frame(root));
  uint64_t result = 0;
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.next < f.shape.subdirs.size()) {
      Id child = f.shape.subdirs[f.next++];
      if (auto it = memo.find(child); it != memo.end())
        f.sum = add(f.sum, it->second);
      else
        stack.push_back(frame(child));  // `f` is not used after this
      continue;
    }
    result = f.sum;
    memo[f.id] = result;
    stack.pop_back();
    if (!stack.empty()) stack.back().sum = add(stack.back().sum, result);
  }
  return result;
}

Error tree_too_large(const std::string& what) {
  return Error(ErrorKind::Corrupt, what + ": its directories expand to more than " + std::to_string(kMaxTreeEntries) +
                                       " entries (the same subtrees named over and over: a crafted point, not a "
                                       "backup; nothing of it is read). Other recovery points are not affected; "
                                       "see docs/security.md");
}

void refuse_tree_bomb(Repository& repo, const Id& root, const std::string& what) {
  std::unordered_map<Id, uint64_t, IdHash> memo;
  auto shape = [&](const Id& id) -> std::optional<TreeShape> {
    try {
      return tree_shape(repo.load_tree(id));
    } catch (const Error&) {
      return std::nullopt;  // the walk meets it again and reports it as it always did
    }
  };
  if (expanded_entries(root, shape, memo) > kMaxTreeEntries) throw tree_too_large(what);
}

Error path_too_long(const std::string& what, const std::string& path) {
  auto boundary = [&](size_t i) {  // cut at character boundaries: the message may be printed as JSON
    while (i > 0 && i < path.size() && (static_cast<unsigned char>(path[i]) & 0xC0) == 0x80) i--;
    return i;
  };
  return Error(ErrorKind::Corrupt, what + ": a path of " + std::to_string(path.size()) + " bytes (more than " +
                                       std::to_string(kMaxPathBytes) + ") at '" + path.substr(0, boundary(60)) + "…" +
                                       path.substr(boundary(path.size() - 40)) +
                                       "' (damaged or crafted; nothing below is read)");
}

void walk_tree(Repository& repo, const Id& tree, const std::function<bool(const std::string&, const Node&)>& fn,
               const std::string& prefix, const std::string& what) {
  // An explicit stack, one frame per open directory: a planted chain of nested trees cannot
  // exhaust the thread's stack, and the depth bound keeps the frames few (docs/security.md).
  struct Frame {
    Tree tree;
    size_t next = 0;
    std::string path;
  };
  std::string name = what.empty() ? "tree " + tree.short_hex() : what;
  Tree top = repo.load_tree(tree);  // a missing root is reported as before
  refuse_tree_bomb(repo, tree, name);
  std::vector<Frame> stack;
  stack.push_back({std::move(top), 0, prefix});
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.next == f.tree.nodes.size()) {
      stack.pop_back();
      continue;
    }
    const Node& n = f.tree.nodes[f.next++];
    std::string path = f.path.empty() ? n.name : f.path + "/" + n.name;
    if (path.size() > kMaxPathBytes) throw path_too_long(name, path);
    if (!fn(path, n) || n.type != NodeType::Dir || !n.subtree) continue;
    if (stack.size() >= kMaxTreeDepth) throw tree_too_deep(name, path);
    Tree sub = repo.load_tree(*n.subtree);
    stack.push_back({std::move(sub), 0, std::move(path)});  // `f` and `n` are not used after this
  }
}

Id content_root(Repository& repo, const Snapshot& snap) {
  bool old_whole_system =
      snap.source_kind == "files" && snap.paths == std::vector<std::string>{"/"} && !snap.metadata.contains("layout");
  if (!old_whole_system) return snap.tree;
  Tree t = repo.load_tree(snap.tree);
  if (t.nodes.size() == 1 && t.nodes[0].name == "root" && t.nodes[0].type == NodeType::Dir && t.nodes[0].subtree)
    return *t.nodes[0].subtree;
  return snap.tree;
}

}  // namespace arca
