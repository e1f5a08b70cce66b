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

}  // namespace arca
