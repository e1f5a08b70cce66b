// One conformance suite for every Backend: each instantiation gives a factory that returns a
// fresh, empty backend (its own directory or bucket prefix) plus options for small multipart
// thresholds. The same assertions run against the local filesystem and a real S3 server.
#pragma once
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "storage/backend.h"

struct BackendFactory {
  std::string name;
  // A new empty backend; `opts` are extra -o settings (ignored where they do not apply).
  std::function<std::unique_ptr<arca::Backend>(const arca::BackendOptions& opts)> make;
  // False for stores without conditional writes (Swift's S3 API answers 501 to If-None-Match):
  // Arca falls back to check-then-write, which a race between writers can defeat (documented).
  bool atomic_create = true;
};

inline void PrintTo(const BackendFactory& f, std::ostream* os) { *os << f.name; }

class BackendConformance : public ::testing::TestWithParam<BackendFactory> {
 protected:
  std::unique_ptr<arca::Backend> make(const arca::BackendOptions& opts = {}) { return GetParam().make(opts); }
};
