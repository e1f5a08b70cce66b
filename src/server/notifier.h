// Built-in notifications for users without Prometheus: a webhook (JSON body signed with
// HMAC-SHA-256 in X-Arca-Signature, retried with backoff) and e-mail over SMTP, with events named
// like AWS Backup's (BACKUP_JOB_STARTED, BACKUP_JOB_COMPLETED, BACKUP_JOB_FAILED,
// BACKUP_JOB_EXPIRED, VERIFICATION_JOB_*, ...), deduplicated, and a daily digest option.
// Delivery happens on its own thread; a slow receiver never holds up the scheduler.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "server/catalog.h"
#include "server/config.h"

namespace arca::server {

struct Notification {
  std::string event;  // BACKUP_JOB_FAILED, ...
  std::string dedup_key;  // same key within the dedup window: sent once
  double time = 0;
  nlohmann::json body;  // {"event", "time", "plan", "job": {...}, "reason", ...}
};

// The event for a job that changed state (nullopt: none, e.g. a pending job).
std::optional<Notification> notification_for(const JobRecord& job);

class Notifier {
 public:
  explicit Notifier(std::shared_ptr<const ServerConfig> config);
  ~Notifier();  // delivers what is queued for up to a few seconds, then stops
  void reload(std::shared_ptr<const ServerConfig> config);
  void post(Notification n);  // never blocks on the network
  void tick(double now);      // digest time

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace arca::server
