// SecretRef: a secret read when it is needed, from a file or the environment (never inline).
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "server/config.h"
#include "util/error.h"

namespace arca::server {

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

}  // namespace arca::server
