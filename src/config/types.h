// What every configuration file Arca reads shares (the server's configuration, drill files):
// errors with their line and field, secrets by reference, recovery objectives, durations.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace arca::config {

// Where a secret comes from. At most one is set; `value()` reads it when it is needed (never at
// load time for the environment, so a reload sees a rotated secret).
struct SecretRef {
  std::string file;  // first line of this file
  std::string env;   // this environment variable
  bool empty() const { return file.empty() && env.empty(); }
  std::string value() const;  // throws Error(Usage) naming the file or variable when unreadable
};

struct Objectives {
  std::optional<int64_t> rpo_s, rto_s;  // seconds; unset: none (the alarm does not apply)
};

struct ConfigError {
  int line = 0, column = 0;  // 1-based; 0: the file as a whole
  std::string field;          // "plans.nightly.schedule.cron"
  std::string message;
  std::string to_string(const std::string& file) const;  // "FILE:12:5: plans.nightly.schedule.cron: ..."
};

// The one rule for a file that holds secrets (the configuration with one written in, a password,
// key or secret file, the TLS key): nullopt when `mode` (st_mode) keeps it from group and others,
// else "FILE is readable by group or others (mode 0644): chmod 600 FILE".
std::optional<std::string> readable_by_others(const std::string& file, unsigned mode);

// "90s", "15m", "1h30m", "2d", "1w" -> seconds; nullopt for anything else.
std::optional<int64_t> parse_duration(const std::string& s);

}  // namespace arca::config
