// The server's log: one line per event, text or JSON.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server/server_log.h"

namespace arca::server {
namespace {

TEST(ServerLog, AMultiLineMessageStaysOneLine) {
  for (bool json : {false, true}) {
    ServerLog log(json);
    ::testing::internal::CaptureStderr();
    log.write(EventLevel::Error, "job 7 FAILED: ERROR:  relation \"x\" does not exist\nLINE 1: SELECT 1\r\n");
    std::string out = ::testing::internal::GetCapturedStderr();
    ASSERT_FALSE(out.empty());
    EXPECT_EQ(out.find('\n'), out.size() - 1) << out;
    EXPECT_NE(out.find("LINE 1: SELECT 1"), std::string::npos) << out;
    if (json) {
      auto j = nlohmann::json::parse(out);
      EXPECT_EQ(j["level"], "error");
      EXPECT_EQ(j["time"].get<std::string>().back(), 'Z');
    } else {
      EXPECT_NE(out.find(" error job 7 FAILED"), std::string::npos) << out;
    }
  }
}

}  // namespace
}  // namespace arca::server
