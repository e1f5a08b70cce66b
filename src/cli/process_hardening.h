// What the arca process does to itself at startup so that secrets do not leak through the
// operating system (see docs/security.md, "Core dumps" and "Secrets on the command line").
#pragma once
#include <string>
#include <vector>

namespace arca {

// No core dumps while keys may be in memory: the process becomes non-dumpable and its soft
// core size limit 0 (children inherit the limit). ARCA_ALLOW_CORE_DUMPS=1 (or yes, true) keeps
// both as they were, for debugging; another value is warned about. Call first thing, before any secret is read.
void disable_core_dumps();

// Passwords in the arguments — a URL's user information (redis://:PW@…, postgresql://u:PW@…),
// a conninfo `password=`, a --server-option requirepass=/masterauth= — overwritten in place with
// '*' so that `ps` and /proc/PID/cmdline stop showing them once the arguments are parsed.
// Returns one warning per secret found, naming the safe ways to give it.
std::vector<std::string> scrub_argv_secrets(int argc, char** argv);

}  // namespace arca
