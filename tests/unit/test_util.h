// Helpers for unit tests: a temporary directory removed at the end of the test; random keyrings;
// the kind of error a call throws; a dead pid.
#pragma once
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

#include "crypto/random.h"
#include "repo/keyring.h"
#include "repo/repository.h"
#include "storage/local_backend.h"
#include "util/error.h"

// Whether `text` contains `part` (for messages and rendered reports).
inline bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/arca-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// A keyring with random keys and data key versions 1..versions.
inline arca::Keyring random_keyring(uint32_t versions = 1) {
  arca::Keyring k;
  k.master = arca::random_key();
  k.id_key = arca::random_key();
  for (uint32_t v = 1; v <= versions; v++) k.data_keys[v] = arca::random_key();
  return k;
}

// The local repository at `path`, opened (again) with `password`.
inline std::unique_ptr<arca::Repository> open_test_repo(const std::string& path, const std::string& password = "pw") {
  arca::Credentials c;
  c.passphrase = password;
  return arca::Repository::open(std::make_unique<arca::LocalBackend>(path), c);
}

// A new local repository at `path` (password "pw", a cheap KDF), opened.
inline std::unique_ptr<arca::Repository> make_test_repo(const std::string& path) {
  arca::LocalBackend b(path);
  arca::Credentials c;
  c.passphrase = "pw";
  arca::InitOptions o;
  o.kdf = {1, 8, 1};
  arca::Repository::init(b, c, o);
  return open_test_repo(path);
}

namespace arca::testing {

// The kind of the arca::Error `fn` throws (a test failure if it throws none).
inline ErrorKind kind_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no error thrown";
  return ErrorKind::Generic;
}

// The pid of a process of this host that has ended: a child that has exited and been reaped
// (what a stale lock or writer registration records).
inline int dead_pid() {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  int status = 0;
  waitpid(pid, &status, 0);
  return pid;
}

}  // namespace arca::testing
