// Turning a file's stat()/xattrs into a tree Node, and back onto a restored file.
#pragma once
#include <sys/stat.h>

#include <string>

#include "repo/tree.h"

namespace arca {

// Fills metadata fields (not content) from lstat() results; xattrs read from `path`.
Node node_from_stat(const std::string& name, const std::string& path, const struct stat& st);
// Applies ownership (when running as root), mode, xattrs and timestamps to an entry inside the
// directory `dirfd`, without following symlinks. Returns an error message, or empty on success.
std::string apply_metadata(int dirfd, const std::string& name, const Node& node);
// Creates a FIFO, socket or device node `name` inside `dirfd` (mknodat; devices need
// CAP_MKNOD). Returns 0 or the errno.
int make_special(int dirfd, const std::string& name, const Node& node);

}  // namespace arca
