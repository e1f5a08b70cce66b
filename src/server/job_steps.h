// The parts of run_job (job_runner.h), one file per kind of work: backups with their retention
// (job_backup.cpp), verification and check (job_verify.cpp), prune (job_runner.cpp), continuous
// streams (job_stream.cpp), drills (job_drill.cpp). Internal to src/server: each step calls the
// operation layer (src/ops) exactly as the CLI does and fills in the outcome; run_job maps what
// they throw.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "server/job_runner.h"

namespace arca::server::jobs {

// Now, in unix seconds (the catalog's and the runtime's times).
double now_s();

// The repository a job works on, opened on first use (a Redis backup opens it while the server
// forks). Whether it answered is reported into the runtime.
class JobRepository {
 public:
  JobRepository(const RepositoryConfig& config, Runtime& runtime) : config_(config), runtime_(runtime) {}
  // Opens it the first time; an open that fails marks the repository unreachable and rethrows.
  Repository& get();
  bool opened() const { return repo_ != nullptr; }
  const RepositoryConfig& config() const { return config_; }
  const std::string& name() const { return config_.name; }
  // The repository answered (reachable = !failed); `error` says what went wrong ("" when fine).
  void report(bool reachable, const std::string& error);
  void report_stored_bytes(uint64_t bytes);

 private:
  const RepositoryConfig& config_;
  Runtime& runtime_;
  std::unique_ptr<Repository> repo_;
};

// What every step gets. `source` is set for backup, verify and stream jobs.
struct JobScope {
  const ServerConfig& config;
  const PlanConfig& plan;
  const JobRecord& job;
  JobContext& ctx;
  Runtime& runtime;
  const SourceConfig* source;
  JobRepository& repo;
};

// The steps. Each sets out.state (and the rest) for what it can tell; a failure it cannot turn
// into an outcome is thrown as arca::Error (run_job maps it, keeping what `out` already holds).
void run_backup(JobScope& s, JobOutcome& out);
void run_verify(JobScope& s, JobOutcome& out);
void run_check(JobScope& s, JobOutcome& out);
void run_prune(JobScope& s, JobOutcome& out);
void run_stream(JobScope& s, JobOutcome& out);
void run_replication(JobScope& s, JobOutcome& out);  // a replica's stream plan (job_replicate.cpp)
void run_drill(JobScope& s, JobOutcome& out);

// Shared by the steps.
std::string source_host(const SourceConfig& src);  // the configured host, else this machine's name
std::string pg_conninfo(const SourceConfig& src);  // with the password (memory only, never logged)
std::string redis_url(const SourceConfig& src);    // likewise
std::string join_brokers(const SourceConfig& src);
// "1 warning: <first>" / "3 warnings: <first> (and 2 more)".
std::string warnings_sentence(const std::vector<std::string>& warnings);
// The plan's retention for the job's source (after a backup; every hour in a continuous archive).
void apply_retention(JobScope& s, JobOutcome& out);
// The catalog record of a point this job saved, added to out.points.
void add_point(JobScope& s, JobOutcome& out, const Snapshot& snap);

}  // namespace arca::server::jobs
