// Restore-side selection (--include / --exclude of restore, ls, pg and redis restores): which
// snapshot paths a pattern names. Backup-side exclusion rules are in sources/files/exclude.h.
#pragma once
#include <string>

namespace arca {

// A pattern matches a snapshot path ("dir/sub/file", no leading '/') if it matches the whole
// path, any parent of it, or (without '/') any single name in it.
bool path_matches(const std::string& pattern, const std::string& rel_path);

}  // namespace arca
