#include "sources/files/exclude.h"

#include <fnmatch.h>

#include <algorithm>
#include <fstream>

#include "util/error.h"

namespace arca {

namespace {

std::vector<std::string> split_components(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// Matches parts[pi..] against names[ni..] entirely; "**" spans zero or more names.
bool match_parts(const std::vector<std::string>& parts, size_t pi, const std::vector<std::string>& names, size_t ni,
                 int flags) {
  for (; pi < parts.size(); pi++, ni++) {
    if (parts[pi] == "**") {
      // Without another "**" after it, the rest must match the last names: one place to try.
      size_t rest = parts.size() - pi - 1;
      if (std::find(parts.begin() + ptrdiff_t(pi) + 1, parts.end(), "**") == parts.end())
        return names.size() >= ni + rest && match_parts(parts, pi + 1, names, names.size() - rest, flags);
      for (size_t k = ni; k <= names.size(); k++)
        if (match_parts(parts, pi + 1, names, k, flags)) return true;
      return false;
    }
    if (ni >= names.size() || fnmatch(parts[pi].c_str(), names[ni].c_str(), flags) != 0) return false;
  }
  return ni == names.size();
}

std::string trim(const std::string& s) {
  const char* ws = " \t\r\n\v\f";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

}  // namespace

std::vector<std::string> read_list_file(const std::string& path, const std::string& what) {
  std::ifstream f(path);
  if (!f) throw Error(ErrorKind::Usage, "cannot read " + what + " " + path + ": check the path and its permissions");
  std::vector<std::string> out;
  std::string line;
  while (std::getline(f, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    out.push_back(line);
  }
  return out;
}

void ExcludeMatcher::add(const std::string& pattern, bool ignore_case) {
  Pattern p;
  p.text = pattern;
  p.anchored = !pattern.empty() && pattern[0] == '/';
  p.parts = split_components(pattern);
  p.ignore_case = ignore_case;
  if (p.parts.empty()) throw Error(ErrorKind::Usage, "empty exclude pattern '" + pattern + "'");
  // Relative patterns match at any depth (restic): an implicit "**/" in front.
  if (!p.anchored && p.parts[0] != "**") p.parts.insert(p.parts.begin(), "**");
  patterns_.push_back(std::move(p));
}

void ExcludeMatcher::add_file(const std::string& path, bool ignore_case) {
  for (const auto& line : read_list_file(path, "exclude file")) add(line, ignore_case);
}

bool ExcludeMatcher::excluded(const std::string& abs_path, std::vector<bool>& hits) const {
  int first = match(abs_path);
  if (first < 0) return false;
  hits[size_t(first)] = true;
  std::vector<std::string> names = split_components(abs_path);
  for (size_t i = size_t(first) + 1; i < patterns_.size(); i++)
    if (!hits[i] && match_parts(patterns_[i].parts, 0, names, 0, patterns_[i].ignore_case ? FNM_CASEFOLD : 0))
      hits[i] = true;
  return true;
}

int ExcludeMatcher::match(const std::string& abs_path) const {
  if (patterns_.empty()) return -1;
  std::vector<std::string> names = split_components(abs_path);
  for (size_t i = 0; i < patterns_.size(); i++) {
    const Pattern& p = patterns_[i];
    int flags = p.ignore_case ? FNM_CASEFOLD : 0;
    if (match_parts(p.parts, 0, names, 0, flags)) return int(i);
  }
  return -1;
}

}  // namespace arca
