// What a notification says: event names for job states, the body's times, and the text of
// e-mails (one per event, or the daily digest). Shared by notifier.cpp and its tests.
#pragma once
#include <string>
#include <vector>

#include "server/notifier.h"

namespace arca::server {

// "2026-03-01T02:00:05.250Z" (UTC, milliseconds).
std::string notification_time(double t);
// An event that repeats while something stays broken (FAILED, EXPIRED, INTERRUPTED, SKIPPED,
// STREAM_FAILED, STREAM_RESTARTED): deduplicated per plan.
bool is_failure_event(const std::string& event);
// BACKUP_JOB_COMPLETED, VERIFICATION_JOB_COMPLETED, PRUNE_JOB_COMPLETED: ends a failure run.
bool is_completion_event(const std::string& event);
// The FAILED event of the same family ("BACKUP_JOB_COMPLETED" -> "BACKUP_JOB_FAILED").
std::string failure_event_of(const std::string& event);

// "[arca] FAILED: plan nightly-db" (backup); "[arca] VERIFICATION FAILED: plan weekly" (others).
std::string mail_subject(const Notification& n);
std::string mail_text(const Notification& n);  // lines separated by "\n"

std::string digest_subject(const std::vector<Notification>& events, const std::string& host);
// Every event, oldest first, one line each, after a count per event name.
std::string digest_text(const std::vector<Notification>& events, double since, double until, const std::string& host);

}  // namespace arca::server
