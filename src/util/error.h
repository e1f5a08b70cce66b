// One error style for all of Arca: throw arca::Error with a kind. src/ops/error_table.h maps each
// kind to its exit code and HTTP status, in one table.
#pragma once
#include <stdexcept>
#include <string>

namespace arca {

enum class ErrorKind {
  Generic,        // anything not listed below
  Usage,          // malformed arguments or configuration
  NotFound,       // repository, snapshot, path or object missing
  Auth,           // wrong password / no usable key
  Corrupt,        // authentication failed, hash mismatch, malformed object
  NoSpace,        // target or repository disk full
  FormatVersion,  // repository written by an unsupported format version
  Io,             // other I/O errors
  Refused,        // a lock, an access role or a safety rule forbids the operation
  Conflict,       // another operation holds what this one needs (a running prune, a lock): retry later
  Unreachable,    // a server (PostgreSQL, Redis, Kafka, S3, ...) cannot be reached or does not answer
  Cancelled,      // the operation was cancelled (SIGINT/SIGTERM, an API call, a window closing)
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

// Throws an Error describing errno for an operation on `what` (ENOSPC becomes NoSpace).
[[noreturn]] void throw_errno(const std::string& op, const std::string& what, int err);

}  // namespace arca
