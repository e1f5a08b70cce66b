// Job states as notification events (named like AWS Backup's), their JSON body, and their text.
#include <cstdio>
#include <ctime>
#include <map>
#include <sstream>

#include "server/notification_text.h"
#include "util/clock.h"
#include "util/host.h"

namespace arca::server {
namespace {

std::string family(JobKind k) {
  switch (k) {
    case JobKind::Backup:
      return "BACKUP_JOB_";
    case JobKind::Verify:
    case JobKind::Check:
      return "VERIFICATION_JOB_";
    case JobKind::Prune:
      return "PRUNE_JOB_";
    case JobKind::Stream:
      return "STREAM_";
    case JobKind::Drill:
      return "DRILL_JOB_";
  }
  return "JOB_";
}

// A stream that starts again after it ended by itself (the scheduler's restart with backoff).
bool restarted(const JobRecord& j) { return j.attempt > 1 || j.retry_of != 0 || j.trigger == "retry"; }

std::optional<std::string> suffix(const JobRecord& j) {
  bool stream = j.kind == JobKind::Stream;
  switch (j.state) {
    case JobState::Pending:
      return std::nullopt;
    case JobState::Running:
      return stream && restarted(j) ? "RESTARTED" : "STARTED";
    case JobState::Success:
    case JobState::Partial:
      return stream ? "STOPPED" : "COMPLETED";  // PARTIAL: job.state says so
    case JobState::Failed:
      return "FAILED";
    case JobState::Skipped:
      return "SKIPPED";
    case JobState::Expired:
      return "EXPIRED";
    case JobState::Canceled:
      return stream ? "STOPPED" : "CANCELED";  // a stream stops by cancel
    case JobState::Interrupted:
      return "INTERRUPTED";
  }
  return std::nullopt;
}

nlohmann::json time_or_null(double t) { return t > 0 ? nlohmann::json(notification_time(t)) : nlohmann::json(nullptr); }

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::string str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// "VERIFICATION " for VERIFICATION_JOB_FAILED, "" for backups (the common case reads shortest).
std::string family_words(const std::string& event) {
  for (const char* f : {"VERIFICATION_JOB_", "PRUNE_JOB_", "RESTORE_JOB_", "DRILL_JOB_"})
    if (event.rfind(f, 0) == 0) return std::string(f).substr(0, std::string(f).find('_')) + " ";
  if (event.rfind("STREAM_", 0) == 0) return "STREAM ";
  return "";
}

std::string state_word(const std::string& event) {
  auto pos = event.rfind('_');
  return pos == std::string::npos ? event : event.substr(pos + 1);
}

}  // namespace

std::string notification_time(double t) { return rfc3339_utc(t, true); }

bool is_failure_event(const std::string& e) {
  for (const char* tail : {"_FAILED", "_EXPIRED", "_INTERRUPTED", "_SKIPPED", "_RESTARTED"})
    if (ends_with(e, tail)) return true;
  return false;
}

bool is_completion_event(const std::string& e) { return ends_with(e, "_JOB_COMPLETED"); }

std::string failure_event_of(const std::string& e) {
  auto pos = e.rfind('_');
  return pos == std::string::npos ? e : e.substr(0, pos) + "_FAILED";
}

const std::vector<std::string>& notification_events() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const char* f : {"BACKUP_JOB_", "VERIFICATION_JOB_", "PRUNE_JOB_", "RESTORE_JOB_", "DRILL_JOB_"})
      for (const char* s : {"STARTED", "COMPLETED", "FAILED", "SKIPPED", "EXPIRED", "CANCELED", "INTERRUPTED"})
        v.push_back(std::string(f) + s);
    for (const char* s : {"STARTED", "RESTARTED", "STOPPED", "FAILED", "SKIPPED", "EXPIRED", "INTERRUPTED"})
      v.push_back(std::string("STREAM_") + s);
    return v;
  }();
  return names;
}

std::optional<Notification> notification_for(const JobRecord& j) {
  auto tail = suffix(j);
  if (!tail) return std::nullopt;
  Notification n;
  n.event = family(j.kind) + *tail;
  n.time = j.state == JobState::Running ? j.started_at : j.finished_at;
  if (n.time <= 0) n.time = j.created_at > 0 ? j.created_at : double(clock_now());
  // A plan failing every minute must not send a notification every minute: failures share one
  // key per plan (the notifier's window); everything else is keyed by its job (sent once each).
  n.dedup_key =
      is_failure_event(n.event) ? n.event + "|" + j.plan : n.event + "|" + j.plan + "|" + std::to_string(j.id);
  double duration = j.started_at > 0 && j.finished_at >= j.started_at ? j.finished_at - j.started_at : -1;
  n.body = {
      {"event", n.event},
      {"time", notification_time(n.time)},
      {"host", local_hostname()},
      {"plan", j.plan},
      {"kind", std::string(to_string(j.kind))},
      {"source", j.source},
      {"repository", j.repository},
      {"job",
       {{"id", j.id},
        {"state", std::string(state_label(j.state))},
        {"trigger", j.trigger},
        {"attempt", j.attempt},
        {"reason", j.reason},
        {"warnings", j.warnings},
        {"snapshot_id", j.snapshot_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(j.snapshot_id)},
        {"bytes_added", j.bytes_added},
        {"scheduled", time_or_null(j.scheduled_at)},
        {"started", time_or_null(j.started_at)},
        {"finished", time_or_null(j.finished_at)},
        {"duration", duration >= 0 ? nlohmann::json(duration) : nlohmann::json(nullptr)}}},
  };
  return n;
}

std::string mail_subject(const Notification& n) {
  const auto& job = n.body.value("job", nlohmann::json::object());
  std::string word = state_word(n.event);
  if (str(job, "state") == "PARTIAL") word += " (PARTIAL)";
  std::string s = "[arca] " + family_words(n.event) + word + ": plan " + str(n.body, "plan");
  if (n.body.value("recovered", false)) s += " (recovered)";
  return s;
}

std::string mail_text(const Notification& n) {
  const nlohmann::json& b = n.body;
  const auto& job = b.value("job", nlohmann::json::object());
  std::ostringstream o;
  o << n.event << " at " << str(b, "time") << " on " << str(b, "host") << "\n\n";
  auto line = [&](const char* label, const std::string& v) {
    if (!v.empty()) o << label << v << "\n";
  };
  line("Plan:        ", str(b, "plan") + " (" + str(b, "kind") + ")");
  line("Source:      ", str(b, "source"));
  line("Repository:  ", str(b, "repository"));
  if (job.contains("id"))
    line("Job:         ", job["id"].dump() + " (trigger " + str(job, "trigger") + ", attempt " +
                              job.value("attempt", nlohmann::json(1)).dump() + ")");
  line("State:       ", str(job, "state"));
  line("Reason:      ", str(job, "reason"));
  if (job.value("warnings", 0) > 0) line("Warnings:    ", std::to_string(job.value("warnings", 0)));
  line("Snapshot:    ", str(job, "snapshot_id"));
  line("Scheduled:   ", str(job, "scheduled"));
  line("Started:     ", str(job, "started"));
  line("Finished:    ", str(job, "finished"));
  if (job.contains("duration") && job["duration"].is_number()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f s", job["duration"].get<double>());
    line("Duration:    ", buf);
  }
  if (b.value("recovered", false)) o << "\nThe plan had failed before; this run completed.\n";
  return o.str();
}

std::string digest_subject(const std::vector<Notification>& events, const std::string& host) {
  if (events.empty()) return "[arca] daily digest: no events (" + host + ")";
  size_t failures = 0;
  for (const auto& n : events) failures += is_failure_event(n.event) ? 1 : 0;
  auto count = [](size_t k, const char* what) { return std::to_string(k) + " " + what + (k == 1 ? "" : "s"); };
  return "[arca] daily digest: " + count(events.size(), "event") + ", " + count(failures, "failure") + " (" + host +
         ")";
}

std::string digest_text(const std::vector<Notification>& events, double since, double until, const std::string& host) {
  constexpr size_t kMaxLines = 1000;  // a mail stays readable; the counts above still cover all
  std::ostringstream o;
  o << "Arca on " << host << ": " << events.size() << " events from " << notification_time(since) << " to "
    << notification_time(until) << ".\n";
  if (events.empty()) return o.str();
  std::map<std::string, size_t> counts;
  for (const auto& n : events) ++counts[n.event];
  o << "\n";
  for (const auto& [event, count] : counts) o << "  " << event << ": " << count << "\n";
  o << "\n";
  size_t shown = 0;
  for (const auto& n : events) {
    if (shown++ == kMaxLines) {
      o << "... and " << events.size() - kMaxLines << " more\n";
      break;
    }
    const auto& job = n.body.value("job", nlohmann::json::object());
    o << notification_time(n.time) << "  " << n.event << "  plan " << str(n.body, "plan");
    if (job.contains("id")) o << "  job " << job["id"].dump();
    std::string reason = str(job, "reason");
    if (!reason.empty()) o << ": " << reason;
    o << "\n";
  }
  return o.str();
}

}  // namespace arca::server
