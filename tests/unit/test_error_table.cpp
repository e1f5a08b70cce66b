// The one table of error kinds, exit codes and HTTP statuses, and the docs that list the codes.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "ops/error_table.h"

using namespace arca;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST(ErrorTable, EveryKindHasOneRowAndADocumentedExitCode) {
  std::set<int> documented;
  for (const auto& d : exit_code_docs()) documented.insert(d.code);
  std::set<ErrorKind> seen;
  for (const auto& k : error_kind_table()) {
    EXPECT_TRUE(seen.insert(k.kind).second) << k.name;
    EXPECT_TRUE(documented.count(k.exit_code)) << k.name << " maps to undocumented exit code " << k.exit_code;
    EXPECT_GE(k.http_status, 400) << k.name;
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(ErrorKind::Cancelled) + 1) << "a kind is missing from the table";
}

TEST(ErrorTable, SpecificKindsMapAsDocumented) {
  EXPECT_EQ(exit_code_for(ErrorKind::Conflict), 16);
  EXPECT_EQ(http_status_for(ErrorKind::Conflict), 409);
  EXPECT_EQ(exit_code_for(ErrorKind::Cancelled), 130);
  EXPECT_EQ(exit_code_for(ErrorKind::Unreachable), exit_code_for(ErrorKind::NotFound));
  EXPECT_EQ(exit_code_for(ErrorKind::NoSpace), 13);
  EXPECT_EQ(http_status_for(ErrorKind::Refused), 403);
}

// README.md and docs/user-guide.md list every exit code the table knows.
TEST(ErrorTable, DocsListEveryExitCode) {
  for (const char* doc : {"README.md", "docs/user-guide.md"}) {
    std::string text = slurp(std::string(ARCA_SOURCE_DIR) + "/" + doc);
    ASSERT_FALSE(text.empty()) << doc;
    for (const auto& d : exit_code_docs()) {
      bool found = text.find("| " + std::to_string(d.code) + " |") != std::string::npos ||
                   text.find("| `" + std::to_string(d.code) + "` |") != std::string::npos;
      EXPECT_TRUE(found) << doc << " does not list exit code " << d.code << " (" << d.meaning << ") in its table";
    }
  }
}
