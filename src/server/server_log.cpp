#include "server/server_log.h"

#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "util/clock.h"

namespace arca::server {


void ServerLog::set_json(bool json) {
  std::lock_guard lk(mu_);
  json_ = json;
}

void ServerLog::write(EventLevel level, const std::string& message) {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  std::string when = rfc3339_utc(static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9, true);
  std::string line;
  // One event, one line: a multi-line error (PostgreSQL's) must not look like several events.
  std::string text = message;
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  std::lock_guard lk(mu_);
  if (json_)
    line = nlohmann::json{{"time", when}, {"level", level_name(level)}, {"message", text}}.dump(
               -1, ' ', false, nlohmann::json::error_handler_t::replace) +
           "\n";
  else
    line = when + " " + level_name(level) + " " + text + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace arca::server
