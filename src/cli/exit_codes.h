// Documented exit codes of the arca command (see docs/user-guide.md, "Exit codes").
#pragma once
#include "util/error.h"

namespace arca {

enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,          // any other error
  kExitUsage = 2,          // malformed arguments or configuration
  kExitPartial = 3,        // finished, but some files could not be read or restored
  kExitNotFound = 10,      // repository, snapshot or path not found
  kExitAuth = 11,          // wrong password / key file
  kExitCorrupt = 12,       // corruption detected (check failed, damaged data)
  kExitNoSpace = 13,       // disk full
  kExitFormat = 14,        // unsupported repository format version
  kExitRefused = 15,       // refused: a recovery point lock, an append-only key or a safety rule
  kExitInterrupted = 130,  // SIGINT
};

int exit_code_for(ErrorKind kind);

}  // namespace arca
