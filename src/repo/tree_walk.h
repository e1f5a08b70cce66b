// Depth-first walk over a snapshot's trees, in name order.
#pragma once
#include <functional>
#include <string>

#include "repo/repository.h"

namespace arca {

// Calls fn(path, node) for every node below `tree`; paths are relative ("dir/file").
// Return false from fn to skip a directory's contents. Iterative; directories nested deeper than
// kMaxTreeDepth are Corrupt (tree_too_deep), naming `what` (e.g. "snapshot ab12cd34").
void walk_tree(Repository& repo, const Id& tree, const std::function<bool(const std::string&, const Node&)>& fn,
               const std::string& prefix = "", const std::string& what = "");

// The tree a files snapshot's paths are relative to: its root tree, except for a point of '/'
// written before issue 17, which held '/' as one directory "root" (the old layout). For those
// it is that directory, so restore, ls, diff and cat see /etc as "etc" as for new points, and a
// restore to / never turns /root into a copy of the system. New points of '/' carry the
// metadata "layout": "root-entries" and are never remapped.
Id content_root(Repository& repo, const Snapshot& snap);

}  // namespace arca
