#include "cli/cli_job.h"

#include <signal.h>

#include <atomic>
#include <iostream>

namespace arca {

namespace {

// The token of the job running now; a lock-free atomic pointer is async-signal-safe to read.
std::atomic<CancelToken*> g_token{nullptr};
struct sigaction g_old_int {
}, g_old_term{};

void on_signal(int) {
  if (CancelToken* t = g_token.load()) t->cancel();
}

}  // namespace

void StderrEvents::emit(const Event& e) {
  if (e.level == EventLevel::Debug) return;
  if (e.level == EventLevel::Info && (!verbose_ || quiet_)) return;
  if (e.level == EventLevel::Warning && quiet_) return;
  const char* prefix = e.level == EventLevel::Info ? "" : e.level == EventLevel::Warning ? "warning: " : "error: ";
  std::cerr << prefix << e.message << "\n";
}

CliJob::CliJob(const GlobalOptions& g, bool verbose) : g_(g), events_(g.quiet, verbose) {
  ctx_.events = &events_;
  g_token.store(&ctx_.cancel);
  // SA_RESETHAND: a second signal ends the process at once. SA_RESTART: no thread's I/O fails
  // with EINTR; the operation polls the token instead.
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESETHAND | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &g_old_int);
  sigaction(SIGTERM, &sa, &g_old_term);
}

CliJob::~CliJob() {
  display_.reset();
  sigaction(SIGINT, &g_old_int, nullptr);
  sigaction(SIGTERM, &g_old_term, nullptr);
  g_token.store(nullptr);
}

void CliJob::show_progress(std::string verb, std::string unit) {
  display_ =
      std::make_unique<ProgressDisplay>(ctx_.progress, std::move(verb), std::move(unit), arca::show_progress(g_));
}

}  // namespace arca
