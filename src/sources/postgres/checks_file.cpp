#include "sources/postgres/checks_file.h"

#include <cctype>
#include <fstream>

#include "util/error.h"

namespace arca {

namespace {
std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) i++;
  return s.substr(i);
}

}  // namespace

std::vector<UserCheck> parse_checks(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(ErrorKind::NotFound, "cannot read the checks file " + path);
  std::vector<UserCheck> out;
  std::string line;
  int lineno = 0;
  auto directive = [](const std::string& l, const char* key, std::string& val) {
    std::string prefix = std::string("-- ") + key + ":";
    if (l.rfind(prefix, 0) != 0) return false;
    val = trim(l.substr(prefix.size()));
    return true;
  };
  while (std::getline(in, line)) {
    lineno++;
    std::string l = trim(line), v;
    if (directive(l, "check", v)) {
      out.push_back({});
      out.back().name = v.empty() ? "check at line " + std::to_string(lineno) : v;
    } else if (out.empty()) {
      if (!l.empty() && l.rfind("--", 0) != 0)
        throw Error(ErrorKind::Usage,
                    path + ":" + std::to_string(lineno) + ": SQL before the first '-- check: NAME' line");
    } else if (directive(l, "database", v)) {
      out.back().database = v;
    } else if (directive(l, "expect", v)) {
      out.back().expect = v;
    } else if (l.rfind("--", 0) != 0) {
      out.back().sql += line + "\n";
    }
  }
  for (const auto& c : out) {
    if (trim(c.sql).empty()) throw Error(ErrorKind::Usage, path + ": check '" + c.name + "' has no query");
    if (c.expect.empty())
      throw Error(ErrorKind::Usage,
                  path + ": check '" + c.name +
                      "' has no '-- expect:' line (empty, nonempty, = V, != V, < N, <= N, > N, >= N)");
  }
  return out;
}

// Compares the first column of the first row with the expectation; "" if it holds, else why not.
std::string judge_expectation(const std::string& expect, int rows, const std::optional<std::string>& first) {
  if (expect == "empty") return rows == 0 ? "" : "expected no rows, got " + std::to_string(rows);
  if (expect == "nonempty") return rows > 0 ? "" : "expected rows, got none";
  std::string op;
  for (const char* o : {"!=", "<=", ">=", "=", "<", ">"})
    if (expect.rfind(o, 0) == 0) {
      op = o;
      break;
    }
  if (op.empty()) return "unknown expectation '" + expect + "'";
  std::string want = trim(expect.substr(op.size()));
  if (want.size() >= 2 && want.front() == '\'' && want.back() == '\'') want = want.substr(1, want.size() - 2);
  if (!first) return "expected a value " + expect + ", got no rows";
  const std::string& got = *first;
  bool ok;
  if (op == "=" || op == "!=") {
    bool eq = got == want;
    if (!eq) {
      try {
        eq = std::stod(got) == std::stod(want);
      } catch (const std::exception&) {}
    }
    ok = op == "=" ? eq : !eq;
  } else {
    double g, w;
    try {
      g = std::stod(got);
      w = std::stod(want);
    } catch (const std::exception&) {
      return "expected a number " + expect + ", got '" + got + "'";
    }
    ok = op == "<" ? g < w : op == "<=" ? g <= w : op == ">" ? g > w : g >= w;
  }
  return ok ? "" : "expected " + expect + ", got " + got;
}

std::string count_mismatch(int64_t got, int64_t recorded, int64_t tolerance) {
  int64_t diff = got > recorded ? got - recorded : recorded - got;
  if (diff <= tolerance) return "";
  return std::to_string(got) + " rows, backup recorded " + std::to_string(recorded) +
         (tolerance ? " (±" + std::to_string(tolerance) + " for concurrent writes)" : "");
}

}  // namespace arca
