#include "server/job_model.h"

#include <array>
#include <utility>

namespace arca::server {
namespace {

template <typename E, size_t N>
std::optional<E> find(const std::array<std::pair<E, std::string_view>, N>& table, std::string_view s) {
  for (const auto& [e, name] : table)
    if (name == s) return e;
  return std::nullopt;
}
template <typename E, size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& table, E e) {
  for (const auto& [v, name] : table)
    if (v == e) return name;
  return "?";
}

constexpr std::array<std::pair<SourceKind, std::string_view>, 4> kSources{
    {{SourceKind::Files, "files"}, {SourceKind::Postgres, "postgres"}, {SourceKind::Redis, "redis"},
     {SourceKind::Kafka, "kafka"}}};
constexpr std::array<std::pair<JobKind, std::string_view>, 6> kKinds{{{JobKind::Backup, "backup"},
                                                                      {JobKind::Verify, "verify"},
                                                                      {JobKind::Check, "check"},
                                                                      {JobKind::Prune, "prune"},
                                                                      {JobKind::Stream, "stream"},
                                                                      {JobKind::Drill, "drill"}}};
constexpr std::array<std::pair<JobState, std::string_view>, 9> kStates{
    {{JobState::Pending, "pending"},
     {JobState::Running, "running"},
     {JobState::Success, "success"},
     {JobState::Partial, "partial"},
     {JobState::Failed, "failed"},
     {JobState::Skipped, "skipped"},
     {JobState::Expired, "expired"},
     {JobState::Canceled, "canceled"},
     {JobState::Interrupted, "interrupted"}}};
constexpr std::array<std::pair<JobState, std::string_view>, 9> kLabels{
    {{JobState::Pending, "PENDING"},
     {JobState::Running, "RUNNING"},
     {JobState::Success, "SUCCESS"},
     {JobState::Partial, "PARTIAL"},
     {JobState::Failed, "FAILED"},
     {JobState::Skipped, "SKIPPED"},
     {JobState::Expired, "EXPIRED"},
     {JobState::Canceled, "CANCELED"},
     {JobState::Interrupted, "INTERRUPTED"}}};
constexpr std::array<std::pair<OverlapPolicy, std::string_view>, 3> kOverlap{
    {{OverlapPolicy::Skip, "skip"}, {OverlapPolicy::Queue, "queue"}, {OverlapPolicy::CancelPrevious, "cancel-previous"}}};
constexpr std::array<std::pair<CatchUp, std::string_view>, 2> kCatchUp{{{CatchUp::None, "none"}, {CatchUp::One, "one"}}};

}  // namespace

std::string_view to_string(SourceKind k) { return name_of(kSources, k); }
std::string_view to_string(JobKind k) { return name_of(kKinds, k); }
std::string_view to_string(JobState s) { return name_of(kStates, s); }
std::string_view state_label(JobState s) { return name_of(kLabels, s); }
std::string_view to_string(OverlapPolicy p) { return name_of(kOverlap, p); }
std::string_view to_string(CatchUp c) { return name_of(kCatchUp, c); }
std::optional<SourceKind> parse_source_kind(std::string_view s) { return find(kSources, s); }
std::optional<JobKind> parse_job_kind(std::string_view s) { return find(kKinds, s); }
std::optional<JobState> parse_job_state(std::string_view s) {
  if (auto st = find(kStates, s)) return st;
  return find(kLabels, s);
}
std::optional<OverlapPolicy> parse_overlap(std::string_view s) { return find(kOverlap, s); }
std::optional<CatchUp> parse_catch_up(std::string_view s) { return find(kCatchUp, s); }

}  // namespace arca::server
