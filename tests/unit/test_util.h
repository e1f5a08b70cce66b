// Helpers for unit tests: a temporary directory removed at the end of the test.
#pragma once
#include <cstdlib>
#include <filesystem>
#include <string>

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/arca-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};
