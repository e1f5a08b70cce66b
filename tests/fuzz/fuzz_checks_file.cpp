// The operator's checks file for `arca pg verify --checks FILE` (read by path), and the judging
// of a check's expectation against a few results.
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "sources/postgres/checks_file.h"

ARCA_FUZZ_TARGET(data, size) {
  static int fd = memfd_create("checks.sql", 0);
  static std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != ssize_t(size)) abort();
  for (const auto& c : arca::parse_checks(path)) {
    (void)arca::judge_expectation(c.expect, 0, std::nullopt);
    (void)arca::judge_expectation(c.expect, 1, std::string("42"));
    (void)arca::judge_expectation(c.expect, 3, std::string("NULL"));
    (void)arca::judge_expectation(c.expect, 1, c.sql);
  }
}
