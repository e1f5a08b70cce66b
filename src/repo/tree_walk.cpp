#include "repo/tree_walk.h"

namespace arca {

void walk_tree(Repository& repo, const Id& tree, const std::function<bool(const std::string&, const Node&)>& fn,
               const std::string& prefix) {
  Tree t = repo.load_tree(tree);
  for (const auto& n : t.nodes) {
    std::string path = prefix.empty() ? n.name : prefix + "/" + n.name;
    if (fn(path, n) && n.type == NodeType::Dir && n.subtree) walk_tree(repo, *n.subtree, fn, path);
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
