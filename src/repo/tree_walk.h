// Depth-first walk over a snapshot's trees, in name order.
#pragma once
#include <functional>
#include <string>

#include "repo/repository.h"

namespace arca {

// Calls fn(path, node) for every node below `tree`; paths are relative ("dir/file").
// Return false from fn to skip a directory's contents.
void walk_tree(Repository& repo, const Id& tree, const std::function<bool(const std::string&, const Node&)>& fn,
               const std::string& prefix = "");

}  // namespace arca
