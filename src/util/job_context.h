// What every long operation receives from whoever runs it — the CLI today, the server and its
// API tomorrow: counters to update, a sink for structured events, and a cancel token to honour.
// Lives in util so that sources and the repository layer can take it without depending upward.
#pragma once
#include <atomic>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "util/error.h"
#include "util/progress.h"

namespace arca {

// Set once (by a signal handler, an API call, a completion window) and polled by long loops.
// Every long operation checks it at least once a second and then throws ErrorKind::Cancelled
// after undoing what it must not leave behind (staging files, unpublished points).
class CancelToken {
 public:
  void cancel() noexcept { flag_.store(true, std::memory_order_relaxed); }  // async-signal-safe
  bool cancelled() const noexcept { return flag_.load(std::memory_order_relaxed); }
  // Throws Error(Cancelled, "<what> cancelled") once cancelled.
  void check(const char* what = "operation") const {
    if (cancelled()) throw Error(ErrorKind::Cancelled, std::string(what) + " cancelled");
  }
  // For code that polls a plain flag (e.g. a worker pool's stop flag).
  const std::atomic<bool>& flag() const noexcept { return flag_; }

 private:
  std::atomic<bool> flag_{false};
};

enum class EventLevel { Debug, Info, Warning, Error };

// "debug", "info", "warning", "error": as logs and JSON spell them.
inline const char* level_name(EventLevel l) {
  switch (l) {
    case EventLevel::Debug: return "debug";
    case EventLevel::Info: return "info";
    case EventLevel::Warning: return "warning";
    case EventLevel::Error: return "error";
  }
  return "info";
}

// A structured event: a stable code machines can match ("prune.pack_removed"), a sentence for
// people, and fields (key, value) for both.
struct Event {
  EventLevel level = EventLevel::Info;
  std::string code;
  std::string message;
  std::vector<std::pair<std::string, std::string>> fields;
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void emit(const Event& e) = 0;  // may be called from several threads
};

// Collects events in memory (tests; a server keeps a job's log this way).
class EventLog : public EventSink {
 public:
  void emit(const Event& e) override;
  std::vector<Event> events() const;

 private:
  mutable std::mutex mu_;
  std::vector<Event> events_;
};

struct JobContext {
  ProgressCounters progress;
  CancelToken cancel;
  EventSink* events = nullptr;  // not owned; null drops events

  void emit(EventLevel level, std::string code, std::string message,
            std::vector<std::pair<std::string, std::string>> fields = {}) const {
    if (events) events->emit(Event{level, std::move(code), std::move(message), std::move(fields)});
  }
  void info(std::string code, std::string message, std::vector<std::pair<std::string, std::string>> fields = {}) const {
    emit(EventLevel::Info, std::move(code), std::move(message), std::move(fields));
  }
  void warn(std::string code, std::string message, std::vector<std::pair<std::string, std::string>> fields = {}) const {
    emit(EventLevel::Warning, std::move(code), std::move(message), std::move(fields));
  }
};

inline void EventLog::emit(const Event& e) {
  std::lock_guard lk(mu_);
  events_.push_back(e);
}
inline std::vector<Event> EventLog::events() const {
  std::lock_guard lk(mu_);
  return events_;
}

}  // namespace arca
