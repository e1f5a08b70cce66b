// /metrics in the Prometheus text exposition format (version 0.0.4), written by hand
// (prometheus-cpp is not in Debian). Names follow Prometheus practice: `arca_` prefix, base units
// (seconds, bytes), `_total` only on counters, labels bounded (plan, kind, source, repository,
// outcome — never snapshot ids). docs/server.md lists every metric.
#pragma once
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "server/catalog.h"
#include "server/runtime.h"
#include "server/scheduler.h"

namespace arca::server {

// Counts and durations of finished jobs since the server started, kept in memory (a restart
// resets counters, as Prometheus expects; rate() handles it).
class JobMetrics {
 public:
  void record(const JobRecord& finished);  // a job reached a final state
  std::string render() const;              // arca_job_runs_total, arca_job_duration_seconds, ...

 private:
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> runs_;  // plan, kind, outcome
  std::map<std::pair<std::string, std::string>, std::vector<uint64_t>> buckets_;  // plan, kind -> histogram
  std::map<std::pair<std::string, std::string>, std::pair<double, uint64_t>> sums_;  // sum, count
  std::map<std::string, uint64_t> added_bytes_;  // repository -> bytes added by jobs
};

// Everything /metrics shows. `last_tick_at`: the scheduler's last pass (its absence alarm).
std::string render_metrics(const ServerConfig& config, Catalog& catalog, const std::vector<PlanView>& plans,
                           const Runtime& runtime, const JobMetrics& job_metrics, double started_at,
                           double last_tick_at, double now);

}  // namespace arca::server
