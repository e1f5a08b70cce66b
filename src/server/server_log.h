// The server's log: one line per event on stderr, as text ("2026-12-07T12:00:00Z info job 12 ...")
// or JSON lines ({"time","level","message"}) for log collectors. Thread-safe. Secrets never reach
// it: callers log names and reasons, never configuration values.
#pragma once
#include <mutex>
#include <string>

#include "util/job_context.h"

namespace arca::server {

class ServerLog {
 public:
  explicit ServerLog(bool json) : json_(json) {}
  void write(EventLevel level, const std::string& message);
  void set_json(bool json);

 private:
  std::mutex mu_;
  bool json_;
};

}  // namespace arca::server
