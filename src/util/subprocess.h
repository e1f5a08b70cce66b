// Running helper programs (PostgreSQL's pg_ctl, pg_dump, …): argv only, never a shell, so
// nothing in an argument is interpreted. stdout can be read as a stream; stderr is collected
// (its last 64 KiB) for error messages.
#pragma once
#include <sys/types.h>

#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "util/fd.h"

namespace arca {

// What a child inherits of our environment (see docs/security.md, "Secrets in child processes").
// Secrets are Arca's credentials (ARCA_PASSWORD, ARCA_PASSWORD_FILE, ARCA_PASSWORD_COMMAND,
// ARCA_KEY_FILE), the object store's (AWS_*), services' passwords (PGPASSWORD, REDISCLI_AUTH)
// and any other name holding PASSWORD, PASSPHRASE, SECRET, TOKEN or CREDENTIAL. A secret a child
// does need is passed explicitly in `env`.
enum class ChildEnv {
  NoSecrets,        // servers and tools (redis-server, pg_dump, pg_ctl stop, …)
  OperatorCommand,  // --password-command: may ask a secret store, so keeps cloud and other tokens
};
// PostgreSQL servers Arca starts get NoSecrets too: restore_command reads the repository's
// credentials from a file (docs/security.md, "PostgreSQL restores").
bool child_env_keeps(std::string_view name, ChildEnv policy);

class Subprocess {
 public:
  enum class Stdout { Inherit, Pipe, Null };
  enum class Stdin { Null, Pipe };
  // Starts the program; throws Error if it cannot be started. `cwd` empty = ours.
  // `env`: extra NAME=VALUE entries for the child (secrets go there, never into argv); the rest
  // of our environment is passed as `policy` allows.
  Subprocess(const std::vector<std::string>& argv, Stdout out, const std::string& cwd = {}, Stdin in = Stdin::Null,
             const std::vector<std::string>& env = {}, ChildEnv policy = ChildEnv::NoSecrets);
  ~Subprocess();  // kills and reaps a child that is still running
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  int stdout_fd() const { return out_.get(); }  // with Stdout::Pipe
  int stdin_fd() const { return in_.get(); }    // with Stdin::Pipe
  void close_stdin() { in_.reset(); }
  // Waits; returns the exit status (128 + signal if killed).
  int wait();
  std::string stderr_text();  // valid after wait()
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  UniqueFd in_, out_, err_;
  std::thread err_reader_;
  std::string err_text_;
  bool waited_ = false;
  int status_ = 0;
};

class CancelToken;

// Runs to completion; returns (exit status, stdout + stderr text). A cancel (looked at every
// 100 ms) kills the program (SIGTERM) and throws Error(Cancelled, "<what> cancelled").
std::pair<int, std::string> run_program(const std::vector<std::string>& argv, const std::string& cwd = {},
                                        ChildEnv policy = ChildEnv::NoSecrets, const CancelToken* cancel = nullptr,
                                        const char* what = "operation");
// `s` as one word for /bin/sh ('…', with embedded quotes as '\'').
std::string shell_quote(const std::string& s);
// The program's full path: absolute paths as they are, otherwise searched in PATH ("" if absent).
std::string find_program(const std::string& name);

}  // namespace arca
