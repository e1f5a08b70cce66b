// What config/types.h declares: a secret read when it is needed, from a file or the environment
// (never inline); the private-file rule; how an error is printed.
#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "config/types.h"
#include "util/error.h"

namespace arca::config {

std::string SecretRef::value() const {
  if (!file.empty()) {
    std::ifstream f(file);
    if (!f) throw Error(ErrorKind::Usage, "cannot read secret file " + file + ": " + std::strerror(errno));
    std::string line;
    std::getline(f, line);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
    return line;
  }
  if (!env.empty()) {
    const char* v = std::getenv(env.c_str());
    if (!v) throw Error(ErrorKind::Usage, "the environment variable " + env + " holding a secret is not set");
    return v;
  }
  return "";
}

std::string ConfigError::to_string(const std::string& file) const {
  std::string s = file + ":";
  if (line > 0) s += std::to_string(line) + ":" + std::to_string(column) + ":";
  s += " ";
  if (!field.empty()) s += field + ": ";
  return s + message;
}

std::optional<std::string> readable_by_others(const std::string& file, unsigned mode) {
  if ((mode & 077) == 0) return std::nullopt;
  char octal[8];
  std::snprintf(octal, sizeof octal, "%04o", mode & 07777);
  return file + " is readable by group or others (mode " + octal + "): chmod 600 " + file;
}

}  // namespace arca::config
