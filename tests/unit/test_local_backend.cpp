// The backend conformance suite on the local filesystem.
#include "backend_conformance.h"
#include "storage/local_backend.h"
#include "test_util.h"

using namespace arca;

namespace {
std::vector<std::unique_ptr<TempDir>> g_dirs;  // live until the test program ends
}

INSTANTIATE_TEST_SUITE_P(Local, BackendConformance,
                         ::testing::Values(BackendFactory{"local",
                                                          [](const BackendOptions&) -> std::unique_ptr<Backend> {
                                                            g_dirs.push_back(std::make_unique<TempDir>());
                                                            return std::make_unique<LocalBackend>(g_dirs.back()->path +
                                                                                                  "/repo");
                                                          }}),
                         [](const auto& info) { return info.param.name; });

TEST(LocalBackend, MissingRootIsReportedAsAbsent) {
  TempDir dir;
  LocalBackend b(dir.path + "/repo");
  EXPECT_FALSE(b.exists());
  b.create();
  EXPECT_TRUE(b.exists());
}
