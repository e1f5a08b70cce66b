// Built-in notifications for users without Prometheus: a webhook (JSON body signed with
// HMAC-SHA-256 in X-Arca-Signature, retried with backoff) and e-mail over SMTP, with events named
// like AWS Backup's (BACKUP_JOB_STARTED, BACKUP_JOB_COMPLETED, BACKUP_JOB_FAILED,
// BACKUP_JOB_EXPIRED, VERIFICATION_JOB_*, ...), deduplicated, and a daily digest option.
// Delivery happens on its own thread; a slow receiver never holds up the scheduler.
// docs/server.md, "Notifications", lists the events, the body and the delivery rules.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/catalog.h"
#include "server/config.h"
#include "util/job_context.h"

namespace arca::server {

struct Notification {
  std::string event;      // BACKUP_JOB_FAILED, ...
  std::string dedup_key;  // same key within the dedup window: sent once
  double time = 0;
  nlohmann::json body;  // {"event", "time", "plan", "job": {...}, "reason", ...}
};

// The event for a job that changed state (nullopt: none, e.g. a pending job).
std::optional<Notification> notification_for(const JobRecord& job);
// Every event name notification_for can produce, and the reserved RESTORE_JOB_* ones (for
// checking the `events` lists of the configuration).
const std::vector<std::string>& notification_events();

// How deliveries are paced. The defaults are production's; tests shorten the waits.
struct NotifierOptions {
  double dedup_window_s = 3600;  // a repeated failure of a plan is sent once per window
  int max_attempts = 5;          // per delivery (webhook or mail)
  double backoff_s = 1;          // before the second attempt; doubling (1, 2, 4, 8 s)
  double timeout_s = 30;         // one attempt, connection included
  double flush_s = 5;            // the destructor delivers what is queued for this long
  // Delivery failures and dropped deliveries (never secrets). Null: stderr.
  std::function<void(EventLevel, const std::string&)> log;
};

struct NotifierStats {
  uint64_t delivered = 0;     // deliveries accepted by their receiver
  uint64_t failed = 0;        // deliveries given up (attempts exhausted, permanent error, shutdown)
  uint64_t retried = 0;       // attempts after the first
  uint64_t deduplicated = 0;  // notifications not sent because their key was sent in the window
};

class Notifier {
 public:
  explicit Notifier(std::shared_ptr<const ServerConfig> config, NotifierOptions options = {});
  ~Notifier();  // delivers what is queued for up to a few seconds, then stops
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;
  void reload(std::shared_ptr<const ServerConfig> config);
  void post(Notification n);  // never blocks on the network
  void tick(double now);      // digest time
  NotifierStats stats() const;
  // Waits until nothing is queued or being delivered (tests); false on timeout.
  bool wait_idle(double timeout_s);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace arca::server
