// The server's vocabulary: what a plan runs (JobKind), where a job is in its life (JobState), and
// the text of each as the configuration, the catalog, the API and the metrics spell it.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace arca::server {

enum class SourceKind { Files, Postgres, Redis, Kafka };

// backup: a recovery point of the plan's source, then its retention policy if it has one.
// verify: pg/redis/kafka verify of the source's newest point (files: check --read-data-subset of
// the source's repository). check: `check` of a repository (optionally reading a subset).
// prune: `prune` of a repository. stream: a continuous job supervised with restart and backoff
// (PostgreSQL wal-stream, Kafka continuous archive), one per source that asks for it.
// drill: a drill file run (docs/drills.md), its record saved in the plan's repository.
enum class JobKind { Backup, Verify, Check, Prune, Stream, Drill };

// Pending: created, waiting for its start (window, limits, a queued overlap). Running: holds a
// lease. The rest are final. Interrupted: the server died while it ran (found at the next start).
enum class JobState { Pending, Running, Success, Partial, Failed, Skipped, Expired, Canceled, Interrupted };

enum class OverlapPolicy { Skip, Queue, CancelPrevious };
enum class CatchUp { None, One };

// Lower-case names: "files", "backup", "running", "cancel-previous", ...; upper case for states
// in the API and metrics ("SUCCESS") comes from state_label().
std::string_view to_string(SourceKind k);
std::string_view to_string(JobKind k);
std::string_view to_string(JobState s);  // "pending", "running", "success", ...
std::string_view state_label(JobState s);  // "PENDING", "RUNNING", "SUCCESS", ... (AWS Backup's words)
std::string_view to_string(OverlapPolicy p);
std::string_view to_string(CatchUp c);
std::optional<SourceKind> parse_source_kind(std::string_view s);
std::optional<JobKind> parse_job_kind(std::string_view s);
std::optional<JobState> parse_job_state(std::string_view s);  // either spelling
std::optional<OverlapPolicy> parse_overlap(std::string_view s);
std::optional<CatchUp> parse_catch_up(std::string_view s);

inline bool is_final(JobState s) { return s != JobState::Pending && s != JobState::Running; }

}  // namespace arca::server
