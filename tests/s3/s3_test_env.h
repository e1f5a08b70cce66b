// The S3 server a test run started (tests/servers/*.sh write DIR/env; ctest passes its path in
// ARCA_TEST_S3_ENV). A missing or unreadable file fails the test: S3 tests never skip silently.
#pragma once
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

#include "crypto/random.h"

inline std::string s3_test_endpoint() {
  static std::string endpoint = [] {
    const char* path = std::getenv("ARCA_TEST_S3_ENV");
    if (!path)
      throw std::runtime_error("ARCA_TEST_S3_ENV is not set: run S3 tests through ctest (it starts the server)");
    std::ifstream in(path);
    if (!in) throw std::runtime_error(std::string("cannot read ") + path + ": the S3 test server did not start");
    std::string line, ep;
    while (std::getline(in, line)) {
      auto eq = line.find('=');
      if (eq == std::string::npos) continue;
      std::string k = line.substr(0, eq), v = line.substr(eq + 1);
      if (k == "ARCA_TEST_S3_ENDPOINT") ep = v;
      setenv(k.c_str(), v.c_str(), 1);
    }
    if (ep.empty()) throw std::runtime_error(std::string(path) + " names no ARCA_TEST_S3_ENDPOINT");
    return ep;
  }();
  return endpoint;
}

// "swift" or "ceph": what kind of server it is (their S3 dialects differ).
inline std::string s3_test_kind() {
  s3_test_endpoint();
  const char* k = std::getenv("ARCA_TEST_S3_KIND");
  return k ? k : "";
}

// A location in a per-run bucket under a fresh prefix.
inline std::string s3_test_location(const std::string& bucket = "arca-tests") {
  return "s3:" + s3_test_endpoint() + "/" + bucket + "/" + arca::random_id().short_hex();
}
