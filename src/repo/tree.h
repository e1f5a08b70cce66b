// Trees: one directory's entries, sorted by name, stored as a JSON blob in meta packs.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/bytes.h"
#include "util/error.h"

namespace arca {

// Fifo, Socket, CharDev and BlockDev are special files: stored as metadata only (devices with
// their device number), recreated with mknod on restore.
enum class NodeType { File, Dir, Symlink, Fifo, Socket, CharDev, BlockDev };

struct Node {
  std::string name;
  NodeType type = NodeType::File;
  uint32_t mode = 0;  // permission bits incl. setuid/setgid/sticky
  uint32_t uid = 0, gid = 0;
  std::string user, group;
  // Access times are not recorded (like borg): reading would change them and every backup would
  // then store new trees. Restore sets atime to mtime.
  int64_t mtime_ns = 0, ctime_ns = 0;
  uint64_t inode = 0, device = 0;
  uint32_t links = 1;
  uint64_t size = 0;
  std::vector<Id> content;    // files: data blob ids in order
  std::optional<Id> subtree;  // directories
  std::string link_target;    // symlinks
  uint64_t rdev = 0;          // character and block devices: the device number (st_rdev)
  std::vector<std::pair<std::string, Bytes>> xattrs;
};

struct Tree {
  std::vector<Node> nodes;  // sorted by name, names unique
};

Bytes encode_tree(const Tree& tree);
// Parses and validates a tree: names must be safe single path components.
Tree decode_tree(ByteView data, const std::string& what);
// True if `name` is one path component that cannot escape its directory.
bool is_safe_name(const std::string& name);

// Directories nest at most this deep (docs/security.md, "Tree depth"): far beyond what a path of
// PATH_MAX bytes can hold, and shallow enough that no walk runs out of stack. Tree walkers stop
// there with tree_too_deep(); backups of streams refuse deeper paths.
constexpr size_t kMaxTreeDepth = 4096;
// The Corrupt error of a walk of `what` ("snapshot ab12cd34") that reached kMaxTreeDepth at
// `path` (named by its first and last bytes: the whole path may be megabytes).
Error tree_too_deep(const std::string& what, const std::string& path);
const char* node_type_name(NodeType t);
// FIFOs, sockets and device nodes.
inline bool is_special(NodeType t) { return t != NodeType::File && t != NodeType::Dir && t != NodeType::Symlink; }

}  // namespace arca
