// Depth-first walk over a snapshot's trees, in name order.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "repo/repository.h"
#include "util/error.h"

namespace arca {

// Trees are a DAG: a planted point whose every level names the same subtree twice expands to
// 2^depth entries in a few KB (docs/security.md, "Tree depth"). Walkers refuse a tree that
// expands to more entries than this (counted with multiplicity, in O(unique trees)) up front,
// and check reports it. Far beyond any filesystem backed up as one point.
constexpr uint64_t kMaxTreeEntries = 1'000'000'000;
// A path longer than this (bytes, all components) is damage: 16 times PATH_MAX, and it keeps
// the path strings of a 4096-level walk from taking gigabytes.
constexpr size_t kMaxPathBytes = 65536;

// What expanded_entries() needs of one tree: its entry count and its subdirectories' trees.
struct TreeShape {
  uint64_t entries = 0;
  std::vector<Id> subdirs;
};
TreeShape tree_shape(const Tree& t);
// Entries below `root` with multiplicity (min(real, kMaxTreeEntries + 1)), each tree asked of
// `shape` once (nullopt: unreadable, counted as empty); `memo` carries counts across calls.
uint64_t expanded_entries(const Id& root, const std::function<std::optional<TreeShape>(const Id&)>& shape,
                          std::unordered_map<Id, uint64_t, IdHash>& memo);
// The Corrupt error of `what` ("snapshot ab12cd34") expanding beyond kMaxTreeEntries.
Error tree_too_large(const std::string& what);
// Throws tree_too_large when `root` expands beyond kMaxTreeEntries; reads each tree once.
void refuse_tree_bomb(Repository& repo, const Id& root, const std::string& what);
// The Corrupt error of a walk of `what` meeting a path longer than kMaxPathBytes.
Error path_too_long(const std::string& what, const std::string& path);

// Calls fn(path, node) for every node below `tree`; paths are relative ("dir/file").
// Return false from fn to skip a directory's contents. Iterative; directories nested deeper than
// kMaxTreeDepth are Corrupt (tree_too_deep), naming `what` (e.g. "snapshot ab12cd34"), and so
// are paths longer than kMaxPathBytes and trees expanding beyond kMaxTreeEntries (checked
// before the first call of fn).
void walk_tree(Repository& repo, const Id& tree, const std::function<bool(const std::string&, const Node&)>& fn,
               const std::string& prefix = "", const std::string& what = "");

// The tree a files snapshot's paths are relative to: its root tree, except for a point of '/'
// written before issue 17, which held '/' as one directory "root" (the old layout). For those
// it is that directory, so restore, ls, diff and cat see /etc as "etc" as for new points, and a
// restore to / never turns /root into a copy of the system. New points of '/' carry the
// metadata "layout": "root-entries" and are never remapped.
Id content_root(Repository& repo, const Snapshot& snap);

}  // namespace arca
