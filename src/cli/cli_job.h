// The CLI's side of a job context: SIGINT/SIGTERM cancel the job (a second signal ends the
// process at once), events are printed on stderr, and the progress display reads the counters.
#pragma once
#include <memory>
#include <string>

#include "cli/common.h"
#include "cli/progress_display.h"
#include "util/job_context.h"

namespace arca {

// Prints warnings (and errors) on stderr as "warning: <message>"; info only when `verbose`.
class StderrEvents : public EventSink {
 public:
  StderrEvents(bool quiet, bool verbose) : quiet_(quiet), verbose_(verbose) {}
  void emit(const Event& e) override;

 private:
  bool quiet_, verbose_;
};

// One per command invocation that runs an operation. While it lives, SIGINT and SIGTERM cancel
// ctx().cancel; the previous handlers come back when it ends. An operation that was cancelled
// throws ErrorKind::Cancelled, which main() turns into exit 130.
class CliJob {
 public:
  explicit CliJob(const GlobalOptions& g, bool verbose = false);
  ~CliJob();
  CliJob(const CliJob&) = delete;
  CliJob& operator=(const CliJob&) = delete;

  JobContext& ctx() { return ctx_; }
  // Starts the terminal progress display (if enabled for these options) over ctx().progress.
  void show_progress(std::string verb, std::string unit);
  void stop_progress() { display_.reset(); }

 private:
  const GlobalOptions& g_;
  StderrEvents events_;
  JobContext ctx_;
  std::unique_ptr<ProgressDisplay> display_;
};

}  // namespace arca
