#include "restore/path_select.h"

#include <fnmatch.h>

namespace arca {

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
