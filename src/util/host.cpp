#include "util/host.h"

#include <pwd.h>
#include <unistd.h>

namespace arca {

std::string local_hostname() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

std::string local_username() {
  if (passwd* pw = getpwuid(geteuid())) return pw->pw_name;
  return std::to_string(geteuid());
}

}  // namespace arca
