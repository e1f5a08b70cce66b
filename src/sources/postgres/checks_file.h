// The operator's own verification checks (`arca pg verify --checks FILE`) and how results are
// judged. The file holds blocks that start with "-- check: NAME", then an optional
// "-- database: DB" (default postgres) and a required "-- expect: EXPECTATION", then the query.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace arca {

struct UserCheck {
  std::string name, database = "postgres", expect, sql;
};

// Throws Error(Usage) naming the line for a malformed file, Error(NotFound) if unreadable.
std::vector<UserCheck> parse_checks(const std::string& path);
// "" if the expectation holds for a result of `rows` rows whose first value is `first`
// (nullopt: no rows; "NULL" for SQL NULL); otherwise what was expected and what came.
// Expectations: empty, nonempty, = V, != V, < N, <= N, > N, >= N.
std::string judge_expectation(const std::string& expect, int rows, const std::optional<std::string>& first);
// "" if a restored row count is within `tolerance` of the recorded one, else the difference.
std::string count_mismatch(int64_t got, int64_t recorded, int64_t tolerance);

}  // namespace arca
