// Fills a job catalog for the `arca server` API benchmark (bench/server.sh, issue 20): plans'
// state, N finished jobs, recovery points and verifications, for S sources and P plans, written
// through the Catalog interface (open_sqlite_catalog: create_job, finish_job, add_point, ...) —
// the same calls the server makes, so the rows are exactly the server's. Every call is its own
// transaction with fsync; bench/server.sh puts the catalog on tmpfs, where fsync costs nothing,
// and --measure-on first times the same calls on a real disk to say what they cost there.
//
//   arca_server_fill --catalog FILE [--jobs N] [--points N] [--sources N] [--plans N]
//                    [--measure-on FILE] [--now UNIX]
//
// The history: P hourly backup plans over S sources (plan i backs up source (i-1) % S + 1), N
// jobs ending now, oldest first (1,000 plans × 1,000 jobs ≈ 42 days); 97% SUCCESS with a recovery
// point id and a result, 2% FAILED with a reason, 1% SKIPPED. The points: an hourly history per
// source ending now. Per source: a "check-read-data" verification every day for 30 days, the
// newest failed for every tenth source. The plans' state: paused.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "server/catalog.h"
#include "util/error.h"

namespace {

using arca::server::Catalog;
using arca::server::JobRecord;
using arca::server::JobState;

struct Options {
  std::string catalog, measure_on;
  long jobs = 1000000, points = 100000, sources = 200, plans = 1000;
  double now = 0;
};

double wall() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double mono() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// A hex id that differs for every (tag, n): enough for snapshot ids and job results.
std::string hex_id(unsigned tag, unsigned long n) {
  char buf[65];
  unsigned long long x = (static_cast<unsigned long long>(tag) << 40) ^ (n * 0x9E3779B97F4A7C15ULL);
  for (int i = 0; i < 64; i += 16) {
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ULL;
    std::snprintf(buf + i, 17, "%016llx", x);
  }
  return std::string(buf, 64);
}

// "s12", "p7": not "s" + to_string(i), on which GCC 12 warns falsely (-Wrestrict).
std::string numbered(char prefix, long i) {
  std::string name(1, prefix);
  return name + std::to_string(i);
}
std::string source_name(long i) { return numbered('s', i); }

// Job number k (0 = oldest) of `o.jobs`: plan, times, outcome.
JobRecord make_job(const Options& o, long k) {
  JobRecord j;
  long plan = k % o.plans + 1;
  long round = (o.jobs - 1 - k) / o.plans;  // hours before now
  j.plan = numbered('p', plan);
  j.kind = arca::server::JobKind::Backup;
  j.source = source_name((plan - 1) % o.sources + 1);
  j.repository = "main";
  j.trigger = "schedule";
  j.scheduled_at = static_cast<double>(static_cast<long>(o.now) / 3600 * 3600 - round * 3600);
  j.created_at = j.scheduled_at + 0.001;
  j.start_deadline = j.scheduled_at + 3600;
  return j;
}

void finish(JobRecord& j, long k) {
  j.started_at = j.scheduled_at + 0.002 + static_cast<double>(k % 7);
  j.finished_at = j.started_at + 2.5 + static_cast<double>(k % 13);
  if (k % 100 == 0) {
    j.state = JobState::Skipped;
    j.started_at = 0;
    j.finished_at = j.scheduled_at + 0.001;
    j.reason = "the plan's previous job was still running (overlap: skip)";
  } else if (k % 50 == 1) {
    j.state = JobState::Failed;
    j.reason = "reading /srv/data/s: permission denied (run the server as a user that can read it)";
  } else {
    j.state = JobState::Success;
    j.snapshot_id = hex_id(1, static_cast<unsigned long>(k));
    j.bytes_added = static_cast<uint64_t>(k % 9973) * 1024;
    j.result = {{"id", j.snapshot_id},
                {"short_id", j.snapshot_id.substr(0, 8)},
                {"host", "db-1"},
                {"partial", false},
                {"paths", {"/srv/data/" + j.source}},
                {"stats",
                 {{"files", 120},
                  {"files_new", k % 3},
                  {"files_changed", k % 5},
                  {"bytes", 1048576},
                  {"bytes_added", j.bytes_added},
                  {"duration_s", j.finished_at - j.started_at}}}};
  }
}

arca::server::RecoveryPointRecord make_point(const Options& o, long k) {
  arca::server::RecoveryPointRecord p;
  long source = k % o.sources + 1;
  long round = (o.points - 1 - k) / o.sources;
  p.repository = "main";
  p.snapshot_id = hex_id(2, static_cast<unsigned long>(k));
  p.kind = "files";
  p.source = source_name(source);
  p.host = "db-1";
  p.time = static_cast<double>(static_cast<long>(o.now) / 3600 * 3600 - round * 3600) + 5;
  p.data_time = p.time;
  p.size = 1048576 + static_cast<uint64_t>(k % 4096);
  return p;
}

// One job created and finished, one point: what each call costs on `path` (a real disk).
void measure(const Options& o) {
  std::filesystem::remove(o.measure_on);
  std::filesystem::remove(o.measure_on + "-wal");
  std::filesystem::remove(o.measure_on + "-shm");
  auto cat = arca::server::open_sqlite_catalog(o.measure_on);
  const long n = 300;
  double t0 = mono();
  for (long k = 0; k < n; k++) {
    JobRecord j = make_job(o, k);
    cat->create_job(j);
    finish(j, k);
    cat->finish_job(j);
  }
  double t1 = mono();
  for (long k = 0; k < n; k++) cat->add_point(make_point(o, k));
  double t2 = mono();
  double per_job = (t1 - t0) / n, per_point = (t2 - t1) / n;
  std::printf("on disk (%s), through the interface: %.2f ms per job (create_job + finish_job), %.2f ms per add_point; "
              "%ld jobs and %ld points would take %.0f min\n",
              o.measure_on.c_str(), per_job * 1000, per_point * 1000, o.jobs, o.points,
              (per_job * static_cast<double>(o.jobs) + per_point * static_cast<double>(o.points)) / 60);
  cat.reset();
  std::filesystem::remove(o.measure_on);
  std::filesystem::remove(o.measure_on + "-wal");
  std::filesystem::remove(o.measure_on + "-shm");
}

void fill(const Options& o) {
  auto cat = arca::server::open_sqlite_catalog(o.catalog);
  double t0 = mono();
  for (long i = 1; i <= o.plans; i++) {
    arca::server::PlanState s;
    s.plan = numbered('p', i);
    s.paused = true;
    s.last_scheduled = static_cast<double>(static_cast<long>(o.now) / 3600 * 3600);
    s.updated_at = o.now;
    cat->put_plan_state(s);
  }
  for (long k = 0; k < o.jobs; k++) {
    JobRecord j = make_job(o, k);
    cat->create_job(j);
    finish(j, k);
    cat->finish_job(j);
    if ((k + 1) % 100000 == 0) std::fprintf(stderr, "  %ld jobs, %.0f s\n", k + 1, mono() - t0);
  }
  double t1 = mono();
  for (long k = 0; k < o.points; k++) cat->add_point(make_point(o, k));
  double t2 = mono();
  for (long s = 1; s <= o.sources; s++) {
    for (int d = 29; d >= 0; d--) {
      arca::server::VerificationRecord v;
      v.source = source_name(s);
      v.repository = "main";
      v.kind = "check-read-data";
      v.time = o.now - d * 86400.0;
      v.ok = !(d == 0 && s % 10 == 0);
      v.duration_s = 12.5;
      v.detail = v.ok ? "" : "pack 3f9a0c1d: hash mismatch";
      cat->add_verification(v);
    }
  }
  double t3 = mono();
  std::printf("on tmpfs, through the interface: %ld jobs in %.0f s (%.3f ms each), %ld points in %.0f s, "
              "%ld verifications in %.1f s\n",
              o.jobs, t1 - t0, (t1 - t0) * 1000 / static_cast<double>(o.jobs ? o.jobs : 1), o.points, t2 - t1,
              o.sources * 30, t3 - t2);
}

long number(const char* flag, const char* v) {
  char* end = nullptr;
  long n = std::strtol(v, &end, 10);
  if (*v == '\0' || *end != '\0' || n < 0) {
    std::fprintf(stderr, "arca_server_fill: %s takes a number, not '%s'\n", flag, v);
    std::exit(2);
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  o.now = wall();
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "arca_server_fill: %s needs a value (see the header of bench/server_fill.cpp)\n", argv[i]);
      return 2;
    }
    const char* v = argv[++i];
    if (a == "--catalog") o.catalog = v;
    else if (a == "--measure-on") o.measure_on = v;
    else if (a == "--jobs") o.jobs = number(argv[i - 1], v);
    else if (a == "--points") o.points = number(argv[i - 1], v);
    else if (a == "--sources") o.sources = number(argv[i - 1], v);
    else if (a == "--plans") o.plans = number(argv[i - 1], v);
    else if (a == "--now") o.now = static_cast<double>(number(argv[i - 1], v));
    else {
      std::fprintf(stderr, "arca_server_fill: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (o.catalog.empty() || o.sources < 1 || o.plans < 1) {
    std::fprintf(stderr, "usage: arca_server_fill --catalog FILE [--jobs N] [--points N] [--sources N] [--plans N] "
                         "[--measure-on FILE] [--now UNIX]\n");
    return 2;
  }
  try {
    if (!o.measure_on.empty()) measure(o);
    fill(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "arca_server_fill: %s\n", e.what());
    return 1;
  }
  return 0;
}
