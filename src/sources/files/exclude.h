// Exclude rules for file backups: glob patterns (fnmatch). A pattern without '/' matches any
// single name at any depth ("*.tmp", "node_modules"); a pattern with '/' matches the whole
// absolute path, '*' not crossing '/' ("/var/cache/*", "/home/*/.cache" = one level).
// Excluding a directory excludes its contents.
#pragma once
#include <string>
#include <vector>

namespace arca {

class ExcludeMatcher {
 public:
  void add(const std::string& pattern);
  // Adds every non-empty, non-comment ('#') line of a file; throws Error(Usage) if unreadable.
  void add_file(const std::string& path);
  bool excluded(const std::string& abs_path, const std::string& name) const;
  bool empty() const { return patterns_.empty(); }

 private:
  std::vector<std::string> patterns_;
};

// Restore-side selection: a pattern matches a snapshot path ("dir/sub/file", no leading '/')
// if it matches the whole path, any parent of it, or (without '/') any single name in it.
bool path_matches(const std::string& pattern, const std::string& rel_path);

}  // namespace arca
