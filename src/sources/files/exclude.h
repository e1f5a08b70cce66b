// Exclude rules for file backups, as restic reads them: glob patterns (fnmatch per path
// component, '*' never crosses '/', '**' spans any number of components).
//   - A pattern starting with '/' matches the absolute path from the top ("/var/cache/*",
//     "/home/*/.cache" = exactly one level).
//   - Any other pattern matches the end of the path at any depth: "*.tmp" and "node_modules"
//     match a name anywhere, ".cache/thumbnails" matches /home/alice/.cache/thumbnails.
// Excluding a directory excludes its contents. Patterns added with ignore_case match without
// regard to case (--iexclude).
#pragma once
#include <string>
#include <vector>

namespace arca {

class ExcludeMatcher {
 public:
  void add(const std::string& pattern, bool ignore_case = false);
  // Adds every line of a file, trimmed of leading and trailing white space; blank lines and
  // '#' comments are skipped. Throws Error(Usage) if unreadable.
  void add_file(const std::string& path, bool ignore_case = false);
  // Index of the first pattern matching the absolute path, or -1.
  int match(const std::string& abs_path) const;
  bool excluded(const std::string& abs_path) const { return match(abs_path) >= 0; }
  // Like excluded(), and sets hits[i] for every pattern i that matches (hits has size() slots):
  // to tell which patterns matched nothing, even those another pattern shadowed.
  bool excluded(const std::string& abs_path, std::vector<bool>& hits) const;
  bool empty() const { return patterns_.empty(); }
  size_t size() const { return patterns_.size(); }
  // The pattern as the user gave it (for "matched nothing" warnings).
  const std::string& pattern(size_t i) const { return patterns_[i].text; }

 private:
  struct Pattern {
    std::string text;
    std::vector<std::string> parts;  // components; "**" spans any number
    bool anchored = false;           // started with '/'
    bool ignore_case = false;
  };
  std::vector<Pattern> patterns_;
};

// Splits a file of patterns or paths into lines: trimmed, blank lines and '#' comments dropped.
// Throws Error(Usage) naming `what` if the file cannot be read.
std::vector<std::string> read_list_file(const std::string& path, const std::string& what);

}  // namespace arca
