// The machine and user this process runs as, recorded in what it writes (locks, registrations,
// key files) so that people can tell who did what.
#pragma once
#include <string>

namespace arca {

std::string local_hostname();
std::string local_username();  // the effective user's name, or its uid if it has none

}  // namespace arca
