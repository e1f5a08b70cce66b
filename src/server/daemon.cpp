#include "server/daemon.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <iostream>

#include "ops/error_table.h"
#include "server/api.h"
#include "server/catalog.h"
#include "server/catalog_rebuild.h"
#include "server/job_runner.h"
#include "server/metrics.h"
#include "server/notifier.h"
#include "server/runtime.h"
#include "server/scheduler.h"
#include "server/server_log.h"
#include "util/clock.h"
#include "util/host.h"

namespace arca::server {

namespace {

std::shared_ptr<const ServerConfig> load_checked(const std::string& path, std::vector<std::string>& errors) {
  ConfigLoad l = load_checked_config(path);
  for (const auto& e : l.errors) errors.push_back(e.to_string(path));
  if (!l.config) return nullptr;
  return std::make_shared<const ServerConfig>(std::move(*l.config));
}

// Settings that only a restart applies (the listening socket, the catalog file).
std::vector<std::string> restart_only_changes(const ServerSettings& a, const ServerSettings& b) {
  std::vector<std::string> out;
  if (a.listen != b.listen) out.push_back("server.listen");
  if (a.tls_certificate != b.tls_certificate || a.tls_key != b.tls_key) out.push_back("server.tls");
  if (a.catalog != b.catalog) out.push_back("server.catalog");
  return out;
}

}  // namespace

ConfigLoad load_checked_config(const std::string& path) {
  ConfigLoad l = load_config(path);
  if (!l.config) return l;
  l.errors = check_schedules(*l.config);
  // An empty file (or one emptied by a tool mid-write) would silently stop every schedule.
  if (l.config->plans.empty())
    l.errors.push_back({0, 0, "plans",
                        "the file defines no plans: nothing for the server to run (examples/arca-server.yaml "
                        "shows a complete file)"});
  if (!l.errors.empty()) l.config.reset();
  return l;
}

int run_server(const std::string& config_path) {
  // Signals are taken by this thread alone (sigtimedwait below); every thread started from here
  // on inherits the mask.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGHUP);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  std::vector<std::string> errors;
  std::shared_ptr<const ServerConfig> config = load_checked(config_path, errors);
  if (!config) {
    for (const auto& e : errors) std::cerr << e << "\n";
    std::cerr << "arca server: " << errors.size() << (errors.size() == 1 ? " error" : " errors") << " in "
              << config_path << "; nothing started (check it with 'arca server check-config " << config_path << "')"
              << std::endl;
    return kExitUsage;
  }
  ServerLog log(config->server.log_format == "json");
  auto logf = [&log](EventLevel l, const std::string& m) { log.write(l, m); };
  std::unique_ptr<Catalog> catalog = open_sqlite_catalog(config->server.catalog);
  std::string owner = local_hostname() + ":" + std::to_string(::getpid());
  catalog->claim_for_server(owner);  // before recovery: another server's running jobs are not ours to interrupt
  Runtime runtime;
  JobMetrics job_metrics;
  NotifierOptions nopts;
  nopts.log = logf;
  Notifier notifier(config, nopts);

  SchedulerHooks hooks;
  hooks.now = clock_now_s;
  hooks.execute = [&runtime](const ServerConfig& cfg, const PlanConfig& plan, const JobRecord& job,
                             JobContext& ctx) { return run_job(cfg, plan, job, ctx, runtime); };
  hooks.on_job = [&notifier](const JobRecord& j) {
    if (auto n = notification_for(j)) notifier.post(std::move(*n));
  };
  hooks.on_finished = [&job_metrics](const JobRecord& j) { job_metrics.record(j); };
  hooks.log = logf;
  Scheduler scheduler(*catalog, config, hooks, owner);
  scheduler.recover();

  std::string host = config->server.listen.substr(0, config->server.listen.rfind(':'));
  if (config->server.tls_certificate.empty() && host != "127.0.0.1" && host != "localhost" && host != "[::1]")
    log.write(EventLevel::Warning, "the API listens on " + config->server.listen +
                                       " without TLS: tokens cross the network in clear text (set server.tls)");
  std::atomic<bool> ready{false};
  ApiContext api_ctx{*catalog, scheduler, runtime, job_metrics, clock_now_s, [&ready] { return ready.load(); },
                     scheduler.started_at(), [&scheduler] { return scheduler.last_tick_at(); }};
  ApiServer api(api_ctx, config->server);
  api.start();
  // A new or lost catalog learns the recovery points from the repositories (in the background:
  // an unreachable repository must not hold up the schedules).
  std::jthread rebuild;  // joined however this function ends
  if (catalog->points("", "", 1).empty() && !config->repositories.empty()) {
    rebuild = std::jthread([&, cfg = config] {
      try {
        for (const RepositoryRebuild& r : rebuild_points(*cfg, *catalog))
          log.write(r.ok ? EventLevel::Info : EventLevel::Warning,
                    "catalog: repository " + r.repository +
                        (r.ok ? ": " + std::to_string(r.points) + " recovery points indexed" : ": not indexed: " + r.error));
      } catch (const std::exception& e) {
        log.write(EventLevel::Warning, std::string("catalog: learning the recovery points failed: ") + e.what());
      }
    });
  }

  scheduler.start();
  ready = true;
  log.write(EventLevel::Info, "arca server " ARCA_VERSION " started: " + std::to_string(config->plans.size()) +
                                  " plans, API on " + std::string(config->server.tls_certificate.empty() ? "http" : "https") +
                                  "://" + host + ":" +
                                  std::to_string(api.port()) + ", catalog " + config->server.catalog);

  int stop_signal = 0;
  while (!stop_signal) {
    timespec one_second{1, 0};
    int sig = sigtimedwait(&sigs, nullptr, &one_second);
    if (sig == SIGHUP) {
      std::vector<std::string> errs;
      std::shared_ptr<const ServerConfig> next;
      try {
        next = load_checked(config_path, errs);
      } catch (const std::exception& e) {  // the file gone (an editor's rename), unreadable
        errs.push_back(e.what());
      }
      if (!next) {
        log.write(EventLevel::Error, "reload of " + config_path + " failed; the running configuration stays (" +
                                         std::to_string(errs.size()) + (errs.size() == 1 ? " error" : " errors") + "):");
        for (const auto& e : errs) log.write(EventLevel::Error, "  " + e);
        continue;
      }
      for (const auto& f : restart_only_changes(config->server, next->server))
        log.write(EventLevel::Warning, "reload: " + f + " changes only when the server restarts");
      config = next;
      log.set_json(config->server.log_format == "json");
      scheduler.reload(config);
      notifier.reload(config);
      log.write(EventLevel::Info, "reloaded " + config_path + ": " + std::to_string(config->plans.size()) + " plans");
    } else if (sig == SIGTERM || sig == SIGINT) {
      stop_signal = sig;
    } else {
      notifier.tick(clock_now_s());
      for (const Runtime::PointUpdate& u : runtime.take_point_updates()) {
        if (!u.replace_repository.empty())
          catalog->replace_points(u.replace_repository, u.points);
        else
          for (const RecoveryPointRecord& p : u.points) catalog->add_point(p);
      }
    }
  }
  log.write(EventLevel::Info, std::string("stopping (") + (stop_signal == SIGTERM ? "SIGTERM" : "SIGINT") +
                                  "): cancelling running jobs, waiting up to " +
                                  std::to_string(config->server.shutdown_grace_s) + " s");
  ready = false;
  bool all_stopped = scheduler.stop(static_cast<double>(config->server.shutdown_grace_s));
  api.stop();
  if (rebuild.joinable()) rebuild.join();
  if (!all_stopped) {
    // The catalog keeps those jobs RUNNING; the next start marks them INTERRUPTED. Destroying
    // the scheduler would wait for them.
    log.write(EventLevel::Error, "some jobs did not stop within the grace period; exiting anyway");
    std::_Exit(kExitInterrupted);
  }
  log.write(EventLevel::Info, "stopped");
  return kExitOk;
}

}  // namespace arca::server
