#include "sources/files/exclude.h"

#include <fnmatch.h>

#include <fstream>

#include "util/error.h"

namespace arca {

void ExcludeMatcher::add(const std::string& pattern) {
  std::string p = pattern;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  if (p.empty()) throw Error(ErrorKind::Usage, "empty exclude pattern");
  patterns_.push_back(p);
}

void ExcludeMatcher::add_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw Error(ErrorKind::Usage, "cannot read exclude file " + path);
  std::string line;
  while (std::getline(f, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    add(line);
  }
}

bool ExcludeMatcher::excluded(const std::string& abs_path, const std::string& name) const {
  for (const auto& p : patterns_) {
    if (p.find('/') == std::string::npos) {
      if (fnmatch(p.c_str(), name.c_str(), 0) == 0) return true;
    } else if (fnmatch(p.c_str(), abs_path.c_str(), FNM_PATHNAME) == 0) {
      return true;
    }
  }
  return false;
}

bool path_matches(const std::string& pattern, const std::string& rel_path) {
  std::string p = pattern;
  while (!p.empty() && p[0] == '/') p.erase(0, 1);
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  bool has_slash = p.find('/') != std::string::npos;
  // Try the path and each of its parents (so selecting a directory selects its contents).
  std::string cur = rel_path;
  while (!cur.empty()) {
    if (fnmatch(p.c_str(), cur.c_str(), FNM_PATHNAME) == 0) return true;
    if (!has_slash) {
      size_t slash = cur.rfind('/');
      std::string name = slash == std::string::npos ? cur : cur.substr(slash + 1);
      if (fnmatch(p.c_str(), name.c_str(), 0) == 0) return true;
    }
    size_t slash = cur.rfind('/');
    if (slash == std::string::npos) break;
    cur.resize(slash);
  }
  return false;
}

}  // namespace arca
