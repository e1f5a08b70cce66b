// The scheduler with a fake clock and fake jobs: schedules, windows, overlap policies, limits,
// catch-up, pause/resume, reloads, crash recovery, streams and shutdown.
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "server/scheduler.h"

namespace arca::server {
namespace {

namespace fs = std::filesystem;

constexpr double kT0 = 1'800'000'000;  // a whole minute (and hour) in UTC

// Jobs that wait for the test (or their cancel token) and then end as the test says.
class FakeJobs {
 public:
  JobOutcome run(const PlanConfig& plan, const JobRecord& job, JobContext& ctx) {
    std::unique_lock lk(mu_);
    started_.push_back(job.plan);
    cv_.notify_all();
    // The cancel token has no way to wake us: poll it, as operations do.
    while (hold_.count(plan.name) && !ctx.cancel.cancelled()) cv_.wait_for(lk, std::chrono::milliseconds(5));
    JobOutcome o;
    if (ctx.cancel.cancelled()) {
      o.state = JobState::Canceled;
      o.reason = "cancelled";
      return o;
    }
    auto it = results_.find(plan.name);
    o.state = it == results_.end() ? JobState::Success : it->second;
    if (o.state == JobState::Failed) o.reason = "source unreachable";
    ctx.info("job.done", "done");
    return o;
  }
  void hold(const std::string& plan) {
    std::lock_guard lk(mu_);
    hold_.insert(plan);
  }
  void release(const std::string& plan) {
    std::lock_guard lk(mu_);
    hold_.erase(plan);
    cv_.notify_all();
  }
  void result(const std::string& plan, JobState s) {
    std::lock_guard lk(mu_);
    results_[plan] = s;
  }
  // Waits until `n` jobs have started in total.
  bool wait_started(size_t n) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, std::chrono::seconds(5), [&] { return started_.size() >= n; });
  }
  size_t started() {
    std::lock_guard lk(mu_);
    return started_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> hold_;
  std::map<std::string, JobState> results_;
  std::vector<std::string> started_;
};

PlanConfig interval_plan(const std::string& name, int64_t every, const std::string& source = "") {
  PlanConfig p;
  p.name = name;
  p.kind = JobKind::Backup;
  p.source = source.empty() ? "src-" + name : source;
  p.schedule.interval_s = every;
  p.start_window_s = 0;
  return p;
}

class ServerScheduler : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("arca-sched-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    catalog_ = open_sqlite_catalog((dir_ / "catalog.db").string());
    cfg_.path = "test.yaml";
    cfg_.repositories.push_back(RepositoryConfig{"main", "/nonexistent", {}, {}, "", 0, 0});
  }
  void TearDown() override {
    sched_.reset();
    catalog_.reset();
    fs::remove_all(dir_);
  }
  void add_plan(PlanConfig p) {
    if (!p.source.empty() && !cfg_.source(p.source)) {
      SourceConfig s;
      s.name = p.source;
      s.repository = "main";
      s.max_jobs = 0;
      cfg_.sources.push_back(s);
    }
    cfg_.plans.push_back(std::move(p));
  }
  Scheduler& make(const std::string& owner = "test") {
    SchedulerHooks h;
    h.now = [this] { return now_.load(); };
    h.execute = [this](const ServerConfig&, const PlanConfig& p, const JobRecord& j, JobContext& ctx) {
      return jobs_.run(p, j, ctx);
    };
    sched_ = std::make_unique<Scheduler>(*catalog_, std::make_shared<ServerConfig>(cfg_), h, owner);
    sched_->recover();
    return *sched_;
  }
  // Moves the clock and runs passes until the jobs that can run have ended.
  void at(double t) {
    now_ = t;
    ASSERT_TRUE(sched_->wait_idle(5)) << "jobs did not settle";
  }
  std::vector<JobRecord> jobs_of(const std::string& plan) {
    JobFilter f;
    f.plan = plan;
    f.limit = 1000;
    auto v = catalog_->jobs(f);
    std::reverse(v.begin(), v.end());  // oldest first
    return v;
  }

  fs::path dir_;
  std::unique_ptr<Catalog> catalog_;
  ServerConfig cfg_;
  std::atomic<double> now_{kT0 + 5};
  FakeJobs jobs_;
  std::unique_ptr<Scheduler> sched_;
};

TEST_F(ServerScheduler, IntervalPlanRunsOnceAtEachTimeAndNeverOnCreation) {
  add_plan(interval_plan("hourly", 3600));
  make();
  at(kT0 + 10);
  EXPECT_TRUE(jobs_of("hourly").empty()) << "a new plan must not fire at once";
  at(kT0 + 3600);
  at(kT0 + 3601);
  at(kT0 + 7200.5);
  auto js = jobs_of("hourly");
  ASSERT_EQ(js.size(), 2u);
  EXPECT_EQ(js[0].state, JobState::Success);
  EXPECT_EQ(js[0].scheduled_at, kT0 + 3600);
  EXPECT_EQ(js[1].scheduled_at, kT0 + 7200);
  EXPECT_EQ(js[0].trigger, "schedule");
  EXPECT_FALSE(catalog_->events(js[0].id).empty()) << "the job's events are kept";
  auto v = sched_->plan("hourly");
  ASSERT_TRUE(v && v->last_success);
  EXPECT_EQ(v->last_success->id, js[1].id);
  EXPECT_EQ(v->next_due, kT0 + 10800);
  EXPECT_EQ(v->schedule, "every 1h");
}

TEST_F(ServerScheduler, OverlapSkipRecordsASkippedJobAndCountsIt) {
  add_plan(interval_plan("p", 60));
  make();
  jobs_.hold("p");
  now_ = kT0 + 60;
  sched_->tick();
  ASSERT_TRUE(jobs_.wait_started(1));
  now_ = kT0 + 120;
  sched_->tick();
  jobs_.release("p");
  at(kT0 + 121);
  auto js = jobs_of("p");
  ASSERT_EQ(js.size(), 2u);
  EXPECT_EQ(js[0].state, JobState::Success);
  EXPECT_EQ(js[1].state, JobState::Skipped);
  EXPECT_NE(js[1].reason.find("overlap: skip"), std::string::npos) << js[1].reason;
  EXPECT_EQ(sched_->plan("p")->skipped_overlap, 1u);
}

TEST_F(ServerScheduler, OverlapQueueRunsOneQueuedJobAfterThePrevious) {
  auto p = interval_plan("q", 60);
  p.overlap = OverlapPolicy::Queue;
  add_plan(p);
  make();
  jobs_.hold("q");
  now_ = kT0 + 60;
  sched_->tick();
  ASSERT_TRUE(jobs_.wait_started(1));
  now_ = kT0 + 120;
  sched_->tick();
  now_ = kT0 + 180;
  sched_->tick();  // a second queued job would pile up: skipped instead
  EXPECT_EQ(sched_->plan("q")->pending, 1);
  jobs_.release("q");
  at(kT0 + 181);
  auto js = jobs_of("q");
  ASSERT_EQ(js.size(), 3u);
  EXPECT_EQ(js[0].state, JobState::Success);
  EXPECT_EQ(js[1].state, JobState::Success) << "the queued job runs after the first";
  EXPECT_EQ(js[1].scheduled_at, kT0 + 120);
  EXPECT_EQ(js[2].state, JobState::Skipped);
  EXPECT_EQ(jobs_.started(), 2u);
}

TEST_F(ServerScheduler, OverlapCancelPreviousCancelsTheRunningJob) {
  auto p = interval_plan("c", 60);
  p.overlap = OverlapPolicy::CancelPrevious;
  add_plan(p);
  make();
  jobs_.hold("c");
  now_ = kT0 + 60;
  sched_->tick();
  ASSERT_TRUE(jobs_.wait_started(1));
  now_ = kT0 + 120;
  sched_->tick();  // cancels the first; the replacement starts once it has stopped
  jobs_.release("c");
  at(kT0 + 121);
  auto js = jobs_of("c");
  ASSERT_EQ(js.size(), 2u);
  EXPECT_EQ(js[0].state, JobState::Canceled);
  EXPECT_NE(js[0].reason.find("cancel-previous"), std::string::npos) << js[0].reason;
  EXPECT_EQ(js[1].state, JobState::Success);
}

TEST_F(ServerScheduler, AJobThatCannotStartInItsWindowExpiresSayingWhy) {
  cfg_.server.max_jobs = 1;
  auto a = interval_plan("a", 3600);
  auto b = interval_plan("b", 3600);
  b.start_window_s = 600;
  add_plan(a);
  add_plan(b);
  make();
  jobs_.hold("a");
  now_ = kT0 + 3600;
  sched_->tick();
  ASSERT_TRUE(jobs_.wait_started(1));
  now_ = kT0 + 3600 + 599;
  sched_->tick();
  EXPECT_EQ(jobs_of("b").at(0).state, JobState::Pending);
  now_ = kT0 + 3600 + 601;
  sched_->tick();
  auto b_jobs = jobs_of("b");
  ASSERT_EQ(b_jobs.size(), 1u);
  EXPECT_EQ(b_jobs[0].state, JobState::Expired);
  EXPECT_NE(b_jobs[0].reason.find("max-jobs 1"), std::string::npos) << b_jobs[0].reason;
  jobs_.release("a");
  at(kT0 + 3600 + 602);
  EXPECT_EQ(jobs_.started(), 1u) << "an expired job never runs";
}

TEST_F(ServerScheduler, AJobPastItsCompletionWindowIsCancelled) {
  auto p = interval_plan("slow", 3600);
  p.completion_window_s = 1800;
  add_plan(p);
  make();
  jobs_.hold("slow");
  now_ = kT0 + 3600;
  sched_->tick();
  ASSERT_TRUE(jobs_.wait_started(1));
  at(kT0 + 3600 + 1801);
  auto js = jobs_of("slow");
  ASSERT_EQ(js.size(), 1u);
  EXPECT_EQ(js[0].state, JobState::Canceled);
  EXPECT_NE(js[0].reason.find("completion window"), std::string::npos) << js[0].reason;
}

TEST_F(ServerScheduler, AJobWhoseCompletionWindowClosesBeforeItStartsExpiresWithoutRunning) {
  cfg_.server.max_jobs = 1;
  add_plan(interval_plan("busy", 3600));
  auto w = interval_plan("w", 3600);
  w.completion_window_s = 300;
  add_plan(w);
  make();
  jobs_.hold("busy");
  now_ = kT0 + 3600;
  sched_->tick();
  ASSERT_TRUE(jobs_.wait_started(1));
  now_ = kT0 + 3600 + 300;
  sched_->tick();
  jobs_.release("busy");
  at(kT0 + 3600 + 301);
  auto js = jobs_of("w");
  ASSERT_EQ(js.size(), 1u);
  EXPECT_EQ(js[0].state, JobState::Expired);
  EXPECT_NE(js[0].reason.find("completion window"), std::string::npos) << js[0].reason;
  EXPECT_EQ(js[0].started_at, 0) << "it never started";
  EXPECT_EQ(jobs_.started(), 1u);
}

TEST_F(ServerScheduler, ThePlanViewKeepsItsLastFinishedJobWhileTheNextRuns) {
  add_plan(interval_plan("v", 60));
  make();
  at(kT0 + 60);
  jobs_.hold("v");
  now_ = kT0 + 120;
  sched_->tick();
  ASSERT_TRUE(jobs_.wait_started(2));
  auto v = sched_->plan("v");
  ASSERT_TRUE(v->last_job && v->last_finished);
  EXPECT_EQ(v->last_job->state, JobState::Running);
  EXPECT_EQ(v->last_finished->state, JobState::Success) << "metrics read the last finished job: it must not gap";
  EXPECT_EQ(v->last_finished->scheduled_at, kT0 + 60);
  jobs_.release("v");
  at(kT0 + 121);
  sched_.reset();
  make();  // a restart learns it from the catalog
  EXPECT_EQ(sched_->plan("v")->last_finished->scheduled_at, kT0 + 120);
}

TEST_F(ServerScheduler, LimitsPerRepositoryAndPerSource) {
  cfg_.repositories[0].max_jobs = 1;
  add_plan(interval_plan("x", 60));
  add_plan(interval_plan("y", 60));
  make();
  jobs_.hold("x");
  jobs_.hold("y");
  now_ = kT0 + 60;
  sched_->tick();
  ASSERT_TRUE(jobs_.wait_started(1));
  sched_->tick();
  EXPECT_EQ(jobs_.started(), 1u) << "the repository allows one job at a time";
  auto v = sched_->plans();
  EXPECT_EQ(v[0].running + v[1].running, 1);
  EXPECT_EQ(v[0].pending + v[1].pending, 1);
  jobs_.release("x");
  jobs_.release("y");
  at(kT0 + 61);
  EXPECT_EQ(jobs_.started(), 2u);
}

TEST_F(ServerScheduler, KillDuringAJobInterruptsItAndRetriesInsideTheWindow) {
  auto p = interval_plan("k", 3600);
  p.start_window_s = 3600;
  add_plan(p);
  auto late = interval_plan("late", 3600);
  late.start_window_s = 60;
  add_plan(late);
  // A server died while these two ran: the catalog holds them RUNNING under its name.
  for (const char* plan : {"k", "late"}) {
    JobRecord j;
    j.plan = plan;
    j.source = std::string("src-") + plan;
    j.repository = "main";
    j.trigger = "schedule";
    j.scheduled_at = kT0 + 3600;
    j.created_at = kT0 + 3600;
    j.start_deadline = kT0 + 3600 + (std::string(plan) == "k" ? 3600 : 60);
    catalog_->create_job(j);
    ASSERT_TRUE(catalog_->start_job(j.id, "first", kT0 + 3600, kT0 + 3630));
  }
  now_ = kT0 + 3700;
  make("second");
  at(kT0 + 3701);
  JobFilter running;
  running.state = JobState::Running;
  EXPECT_TRUE(catalog_->jobs(running).empty()) << "no job is left RUNNING";
  auto k = jobs_of("k");
  ASSERT_GE(k.size(), 2u);
  const JobRecord& crashed = k[k.size() - 2];
  const JobRecord& retry = k.back();
  EXPECT_EQ(crashed.state, JobState::Interrupted);
  EXPECT_EQ(retry.state, JobState::Success);
  EXPECT_EQ(retry.retry_of, crashed.id);
  EXPECT_EQ(retry.attempt, 2);
  EXPECT_EQ(retry.reason, "retry of job " + std::to_string(crashed.id) + ", interrupted by a server stop")
      << "a retry says what it retried, also when it succeeds";
  auto l = jobs_of("late");
  EXPECT_EQ(l.back().state, JobState::Interrupted) << "outside its window: not retried";
  bool said_why = false;
  for (const JobEvent& e : catalog_->events(l.back().id))
    said_why = said_why || (e.event.code == "job.not_retried" && e.event.message.find("start window") != std::string::npos);
  EXPECT_TRUE(said_why) << "the interrupted job's events say why it was not retried";
}

TEST_F(ServerScheduler, PauseStopsFiringAndResumeCatchesUpOnlyWhenAsked) {
  auto none = interval_plan("none", 600);
  auto one = interval_plan("one", 600);
  one.catch_up = CatchUp::One;
  add_plan(none);
  add_plan(one);
  make();
  sched_->pause("none", "test");
  sched_->pause("one", "test");
  at(kT0 + 600);
  at(kT0 + 1200);
  EXPECT_TRUE(jobs_of("none").empty());
  EXPECT_TRUE(jobs_of("one").empty());
  sched_->resume("none", "test");
  sched_->resume("one", "test");
  at(kT0 + 1300);
  EXPECT_TRUE(jobs_of("none").empty()) << "catch-up none: resuming never fires";
  EXPECT_GE(sched_->plan("none")->missed, 2u);
  auto js = jobs_of("one");
  ASSERT_EQ(js.size(), 1u) << "catch-up one: a single job for the missed times";
  EXPECT_EQ(js[0].trigger, "catch-up");
  EXPECT_EQ(js[0].scheduled_at, kT0 + 1200);
}

TEST_F(ServerScheduler, RestartAfterDowntimeFollowsCatchUp) {
  auto none = interval_plan("none", 600);
  auto one = interval_plan("one", 600);
  one.catch_up = CatchUp::One;
  add_plan(none);
  add_plan(one);
  make();
  sched_->stop(1);
  sched_.reset();
  now_ = kT0 + 3000;  // five scheduled times passed while the server was down
  make();
  at(kT0 + 3001);
  EXPECT_TRUE(jobs_of("none").empty());
  EXPECT_EQ(sched_->plan("none")->missed, 5u);
  auto js = jobs_of("one");
  ASSERT_EQ(js.size(), 1u);
  EXPECT_EQ(js[0].scheduled_at, kT0 + 3000 - 0) << "the newest missed time";
}

TEST_F(ServerScheduler, RunNowAndCancelFromTheOperator) {
  add_plan(interval_plan("r", 86400));
  make();
  EXPECT_THROW(sched_->run_now("nope", "op"), Error);
  jobs_.hold("r");
  JobRecord j = sched_->run_now("r", "op");
  EXPECT_EQ(j.trigger, "manual");
  sched_->tick();
  ASSERT_TRUE(jobs_.wait_started(1));
  try {
    sched_->run_now("r", "op");
    FAIL() << "a second run while one runs (overlap skip) is a conflict";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Conflict);
  }
  sched_->cancel(j.id, "alice");
  at(kT0 + 10);
  auto done = catalog_->job(j.id);
  EXPECT_EQ(done->state, JobState::Canceled);
  EXPECT_EQ(done->reason, "cancelled by alice");
  try {
    sched_->cancel(j.id, "alice");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Conflict);
  }
  try {
    sched_->cancel(999999, "alice");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound);
  }
}

TEST_F(ServerScheduler, ReloadKeepsRunningJobsAndNeverFiresAnEditedPlan) {
  add_plan(interval_plan("keep", 3600));
  add_plan(interval_plan("gone", 3600));
  make();
  jobs_.hold("keep");
  now_ = kT0 + 3600;
  sched_->tick();
  ASSERT_TRUE(jobs_.wait_started(2));
  ServerConfig edited = cfg_;
  edited.plans.erase(edited.plans.begin() + 1);
  edited.plans[0].schedule.interval_s = 60;  // edited while its job runs
  PlanConfig added = interval_plan("new", 60);
  edited.plans.push_back(added);
  SourceConfig s;
  s.name = added.source;
  s.repository = "main";
  edited.sources.push_back(s);
  now_ = kT0 + 3630;
  sched_->reload(std::make_shared<ServerConfig>(edited));
  sched_->tick();
  EXPECT_EQ(jobs_of("keep").back().state, JobState::Running) << "a reload never interrupts a running job";
  EXPECT_TRUE(jobs_of("new").empty()) << "an added plan does not fire at once";
  jobs_.release("keep");
  at(kT0 + 3631);
  EXPECT_EQ(jobs_of("keep").back().state, JobState::Success);
  at(kT0 + 3660);
  EXPECT_EQ(jobs_of("new").size(), 1u);
  EXPECT_FALSE(sched_->plan("gone"));
}

TEST_F(ServerScheduler, AFailingStreamRestartsWithDoublingBackoff) {
  PlanConfig p;
  p.name = "db.stream";
  p.kind = JobKind::Stream;
  p.source = "db";
  p.schedule.continuous = true;
  p.start_window_s = 0;
  add_plan(p);
  cfg_.sources.back().stream.enabled = true;
  cfg_.sources.back().stream.backoff_min_s = 2;
  cfg_.sources.back().stream.backoff_max_s = 8;
  jobs_.result("db.stream", JobState::Failed);
  make();
  at(kT0 + 10);
  EXPECT_EQ(jobs_.started(), 1u) << "a stream starts at once";
  at(kT0 + 11);
  EXPECT_EQ(jobs_.started(), 1u) << "not before its backoff";
  at(kT0 + 12);
  EXPECT_EQ(jobs_.started(), 2u);
  at(kT0 + 15);
  EXPECT_EQ(jobs_.started(), 2u) << "the backoff doubled to 4 s";
  at(kT0 + 16);
  EXPECT_EQ(jobs_.started(), 3u);
  EXPECT_EQ(jobs_of("db.stream").front().state, JobState::Failed);
}

TEST_F(ServerScheduler, StopCancelsRunningJobsAsCanceled) {
  add_plan(interval_plan("s", 60));
  make();
  jobs_.hold("s");
  now_ = kT0 + 60;
  sched_->tick();
  ASSERT_TRUE(jobs_.wait_started(1));
  EXPECT_TRUE(sched_->stop(5));
  auto js = jobs_of("s");
  ASSERT_EQ(js.size(), 1u);
  EXPECT_EQ(js[0].state, JobState::Canceled);
  EXPECT_EQ(js[0].reason, "the server is shutting down");
}

}  // namespace
}  // namespace arca::server
