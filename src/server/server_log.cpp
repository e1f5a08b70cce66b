#include "server/server_log.h"

#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

namespace arca::server {

namespace {
const char* level_name(EventLevel l) {
  switch (l) {
    case EventLevel::Debug: return "debug";
    case EventLevel::Info: return "info";
    case EventLevel::Warning: return "warning";
    case EventLevel::Error: return "error";
  }
  return "info";
}
}  // namespace

void ServerLog::set_json(bool json) {
  std::lock_guard lk(mu_);
  json_ = json;
}

void ServerLog::write(EventLevel level, const std::string& message) {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char when[64];
  std::snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
  std::string line;
  std::lock_guard lk(mu_);
  if (json_)
    line = nlohmann::json{{"time", when}, {"level", level_name(level)}, {"message", message}}.dump(
               -1, ' ', false, nlohmann::json::error_handler_t::replace) +
           "\n";
  else
    line = std::string(when) + " " + level_name(level) + " " + message + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace arca::server
