#include "repo/tree_walk.h"

namespace arca {

void walk_tree(Repository& repo, const Id& tree, const std::function<bool(const std::string&, const Node&)>& fn,
               const std::string& prefix, const std::string& what) {
  // An explicit stack, one frame per open directory: a planted chain of nested trees cannot
  // exhaust the thread's stack, and the depth bound keeps the frames few (docs/security.md).
  struct Frame {
    Tree tree;
    size_t next = 0;
    std::string path;
  };
  std::vector<Frame> stack;
  stack.push_back({repo.load_tree(tree), 0, prefix});
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.next == f.tree.nodes.size()) {
      stack.pop_back();
      continue;
    }
    const Node& n = f.tree.nodes[f.next++];
    std::string path = f.path.empty() ? n.name : f.path + "/" + n.name;
    if (!fn(path, n) || n.type != NodeType::Dir || !n.subtree) continue;
    if (stack.size() >= kMaxTreeDepth) throw tree_too_deep(what.empty() ? "tree " + tree.short_hex() : what, path);
    Tree sub = repo.load_tree(*n.subtree);
    stack.push_back({std::move(sub), 0, std::move(path)});  // `f` and `n` are not used after this
  }
}

Id content_root(Repository& repo, const Snapshot& snap) {
  bool old_whole_system = snap.source_kind == "files" && snap.paths == std::vector<std::string>{"/"} &&
                          !snap.metadata.contains("layout");
  if (!old_whole_system) return snap.tree;
  Tree t = repo.load_tree(snap.tree);
  if (t.nodes.size() == 1 && t.nodes[0].name == "root" && t.nodes[0].type == NodeType::Dir && t.nodes[0].subtree)
    return *t.nodes[0].subtree;
  return snap.tree;
}

}  // namespace arca
