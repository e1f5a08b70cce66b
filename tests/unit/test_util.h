// Helpers for unit tests: a temporary directory removed at the end of the test; random keyrings.
#pragma once
#include <cstdlib>
#include <filesystem>
#include <string>

#include "crypto/random.h"
#include "repo/keyring.h"

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
