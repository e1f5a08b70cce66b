// One table from error kinds and outcomes to the documented exit codes of the arca command and
// to the HTTP status the API answers with. --help, README.md and docs/user-guide.md list the
// same codes (tests/unit/test_error_table.cpp checks that they agree).
#pragma once
#include <span>

#include "util/error.h"

namespace arca {

enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,          // any other error
  kExitUsage = 2,          // malformed arguments or configuration
  kExitPartial = 3,        // finished, but some entries could not be read or restored
  kExitNotFound = 10,      // repository, snapshot or path not found; a server unreachable
  kExitAuth = 11,          // wrong password / key file
  kExitCorrupt = 12,       // corruption detected (check failed, damaged data)
  kExitNoSpace = 13,       // disk full
  kExitFormat = 14,        // unsupported repository format version
  kExitRefused = 15,       // refused: a recovery point lock, an append-only key or a safety rule
  kExitConflict = 16,      // another operation holds what this one needs (e.g. a running prune)
  kExitObjective = 17,     // a drill restored and validated everything but missed an RTO or RPO objective
  kExitInterrupted = 130,  // cancelled by SIGINT/SIGTERM; nothing was published
};

struct ErrorKindInfo {
  ErrorKind kind;
  const char* name;  // stable, for JSON and the API ("not_found")
  int exit_code;
  int http_status;
};

const ErrorKindInfo& error_kind_info(ErrorKind kind);
std::span<const ErrorKindInfo> error_kind_table();
inline int exit_code_for(ErrorKind kind) { return error_kind_info(kind).exit_code; }
inline int http_status_for(ErrorKind kind) { return error_kind_info(kind).http_status; }

// Every exit code with its meaning, in order, as --help and the docs list them.
struct ExitCodeDoc {
  int code;
  const char* meaning;
};
std::span<const ExitCodeDoc> exit_code_docs();

}  // namespace arca
