// Tests of a drill's places (src/drill/drill_components.h): scratch directories, the removal of a
// killed drill's leftovers (and of nothing else), and the targets checked before anything runs.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "drill/drill_components.h"
#include "drill/drill_report.h"
#include "drill/drill_spec.h"
#include "ops/error_table.h"
#include "test_util.h"
#include "util/clock.h"

namespace arca::drill {
namespace {

// The sweep also looks for killed PostgreSQL servers' run directories in $TMPDIR: a private one
// keeps other tests' (running at the same time under ctest -j) out of what it finds.
struct PrivateTmpdir {
  TempDir dir;
  std::string old;
  bool had = false;
  PrivateTmpdir() {
    if (const char* v = std::getenv("TMPDIR")) old = v, had = true;
    setenv("TMPDIR", dir.path.c_str(), 1);
  }
  ~PrivateTmpdir() { had ? setenv("TMPDIR", old.c_str(), 1) : unsetenv("TMPDIR"); }
};


namespace fs = std::filesystem;

// A directory under `parent` that looks like a drill's scratch, with `marker` as its marker ("" none).
std::string fake_scratch(const std::string& parent, const std::string& name, const std::string& marker) {
  std::string dir = parent + "/" + name;
  fs::create_directories(dir + "/data");
  std::ofstream(dir + "/data/file") << "x";
  if (!marker.empty()) std::ofstream(dir + "/.arca-drill") << marker;
  return dir;
}

std::string marker_of(const std::string& dir) {
  std::ifstream f(dir + "/.arca-drill");
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

TEST(DrillScratch, MakeScratchMarksTheDirectoryWithThisProcess) {
  TempDir t;
  const std::string dir = make_scratch(t.path, "nightly", "orders-db");
  EXPECT_EQ(fs::path(dir).parent_path(), fs::path(t.path));
  EXPECT_EQ(fs::path(dir).filename().string().rfind("arca-drill-nightly-orders-db-", 0), 0u) << dir;
  struct stat st {};
  ASSERT_EQ(stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0711u);
  std::istringstream m(marker_of(dir));
  pid_t pid = 0;
  std::string started;
  ASSERT_TRUE(m >> pid >> started);
  EXPECT_EQ(pid, getpid());
  EXPECT_FALSE(started.empty());
  EXPECT_NE(make_scratch(t.path, "nightly", "orders-db"), dir);  // each call its own
  EXPECT_EQ(testing::kind_of([&] { make_scratch(t.path + "/missing", "n", "c"); }), ErrorKind::NotFound);
}

TEST(DrillScratch, OnlyADeadDrillsMarkedDirectoriesAreRemoved) {
  TempDir t, outside;
  const std::string live = make_scratch(t.path, "n", "live");
  const int dead = testing::dead_pid();
  const std::string stale = fake_scratch(t.path, "arca-drill-n-dead-AAAAAA", std::to_string(dead) + " 12345\n");
  // This process's pid with another start time: the pid was reused, the drill is gone.
  const std::string reused =
      fake_scratch(t.path, "arca-drill-n-reused-BBBBBB", std::to_string(getpid()) + " 1\n");
  const std::string unmarked = fake_scratch(t.path, "arca-drill-n-nomarker-CCCCCC", "");
  const std::string half = fake_scratch(t.path, "arca-drill-n-half-DDDDDD", std::to_string(dead) + "\n");
  const std::string foreign = fake_scratch(t.path, "other-n-EEEEEE", std::to_string(dead) + " 12345\n");
  // A symlink to a dead drill's directory elsewhere: neither it nor its target is touched.
  const std::string target = fake_scratch(outside.path, "arca-drill-n-target-FFFFFF", std::to_string(dead) + " 1\n");
  const std::string link = t.path + "/arca-drill-n-link-GGGGGG";
  fs::create_directory_symlink(target, link);

  PrivateTmpdir tmpdir;
  std::vector<std::string> removed = remove_stale_scratch(t.path);
  std::sort(removed.begin(), removed.end());
  EXPECT_EQ(removed, (std::vector<std::string>{stale, reused}));
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_FALSE(fs::exists(reused));
  for (const auto& kept : {live, unmarked, half, foreign, target + "/data/file"})
    EXPECT_TRUE(fs::exists(kept)) << kept;
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_TRUE(remove_stale_scratch(t.path).empty());
  EXPECT_TRUE(remove_stale_scratch(t.path + "/missing").empty());
}

// A process whose program is `exe` (a copy of sleep under that name), working in `dir`.
pid_t sleeper_in(const std::string& dir, const std::string& exe) {
  pid_t child = fork();
  if (child == 0) {
    if (chdir(dir.c_str()) != 0) _exit(3);
    execl(exe.c_str(), exe.c_str(), "30", nullptr);
    _exit(4);
  }
  // Wait until the child runs the program in the directory (before the sweep looks at it).
  for (int i = 0; i < 500 && child > 0; ++i) {
    std::error_code ec, ec2;
    const std::string proc = "/proc/" + std::to_string(child);
    if (fs::read_symlink(proc + "/cwd", ec) == fs::path(dir) && fs::read_symlink(proc + "/exe", ec2) == fs::path(exe))
      break;
    usleep(2000);
  }
  return child;
}

TEST(DrillScratch, AServerLeftRunningInAStaleDirectoryIsStopped) {
  TempDir t, bin;
  const std::string stale =
      fake_scratch(t.path, "arca-drill-n-srv-AAAAAA", std::to_string(testing::dead_pid()) + " 12345\n");
  const std::string sleep_bin = fs::exists("/usr/bin/sleep") ? "/usr/bin/sleep" : "/bin/sleep";
  fs::copy_file(sleep_bin, bin.path + "/redis-server");
  fs::copy_file(sleep_bin, bin.path + "/bash");
  pid_t server = sleeper_in(stale + "/data", bin.path + "/redis-server");
  ASSERT_GT(server, 0);
  // An operator's shell looking at the leftovers is not the drill's: it keeps running.
  pid_t shell = sleeper_in(stale, bin.path + "/bash");
  ASSERT_GT(shell, 0);
  PrivateTmpdir tmpdir;
  EXPECT_EQ(remove_stale_scratch(t.path), std::vector<std::string>{stale});
  // Checked once the server's kill arrived (below): a kill of the shell would have arrived too.
  struct ShellCheck {
    pid_t pid;
    ~ShellCheck() {
      int st = 0;
      EXPECT_EQ(waitpid(pid, &st, WNOHANG), 0) << "the shell in the stale directory was killed";
      kill(pid, SIGKILL);
      waitpid(pid, &st, 0);
    }
  } shell_check{shell};
  int status = 0;
  pid_t got = 0;
  for (int i = 0; i < 500 && got == 0; ++i) {
    got = waitpid(server, &status, WNOHANG);
    if (got == 0) usleep(2000);
  }
  if (got == 0) {  // still running: the sweep left it (a failure), ended here
    ADD_FAILURE() << "the process in the stale directory still runs";
    kill(server, SIGKILL);
    waitpid(server, &status, 0);
    return;
  }
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
}

// A files component with `directory`, and a postgres one that needs the scratch parent.
DrillSpec targets_spec(const std::string& directory, const std::string& scratch) {
  DrillSpec d;
  d.name = "t";
  d.scratch_dir = scratch;
  ComponentSpec f;
  f.name = "conf";
  f.kind = ComponentKind::Files;
  f.paths = {"/etc/app"};
  f.directory = directory;
  d.components.push_back(f);
  ComponentSpec db;
  db.name = "db";
  db.kind = ComponentKind::Postgres;
  db.source = "db";
  d.components.push_back(db);
  return d;
}

TEST(DrillTargets, ADirectoryMustBeAbsentOrEmpty) {
  TempDir t;
  fs::create_directories(t.path + "/empty");
  fs::create_directories(t.path + "/full");
  std::ofstream(t.path + "/full/precious") << "data";
  std::ofstream(t.path + "/file") << "x";
  EXPECT_EQ(target_problem(t.path + "/absent"), "");
  EXPECT_EQ(target_problem(t.path + "/empty"), "");
  EXPECT_TRUE(has(target_problem(t.path + "/full"), "not empty")) << target_problem(t.path + "/full");
  EXPECT_TRUE(has(target_problem("/"), "not empty"));
  EXPECT_TRUE(has(target_problem(t.path + "/file"), "not a directory"));

  EXPECT_TRUE(check_targets(targets_spec(t.path + "/empty", t.path)).empty());
  auto problems = check_targets(targets_spec(t.path + "/full", t.path));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_TRUE(has(problems[0], "components.conf.directory: " + t.path + "/full is not empty")) << problems[0];
  EXPECT_TRUE(fs::exists(t.path + "/full/precious"));
}

TEST(DrillTargets, TheScratchParentMustBeAWritableDirectory) {
  TempDir t;
  std::ofstream(t.path + "/file") << "x";
  auto problems = check_targets(targets_spec(t.path + "/out", t.path + "/missing"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_TRUE(has(problems[0], "scratch directory " + t.path + "/missing does not exist")) << problems[0];
  problems = check_targets(targets_spec(t.path + "/out", t.path + "/file"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_TRUE(has(problems[0], "is not a directory")) << problems[0];
  if (geteuid() != 0) {  // root writes anywhere
    fs::create_directories(t.path + "/ro");
    chmod((t.path + "/ro").c_str(), 0555);
    problems = check_targets(targets_spec(t.path + "/out", t.path + "/ro"));
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_TRUE(has(problems[0], "not writable")) << problems[0];
    chmod((t.path + "/ro").c_str(), 0755);
  }
  // Only files components with their own directory: no scratch is needed, none is checked.
  DrillSpec only_files = targets_spec(t.path + "/out", t.path + "/missing");
  only_files.components.pop_back();
  EXPECT_TRUE(check_targets(only_files).empty());
}

TEST(DrillTargets, AnUnknownSourceNamesTheSourcesOfItsKind) {
  std::vector<Snapshot> all(3);
  all[0].source_kind = "postgres", all[0].source_name = "postgres-7716596439454850734";
  all[1].source_kind = "redis", all[1].source_name = "redis-127.0.0.1-6379";
  all[2].source_kind = "postgres", all[2].source_name = "orders";
  EXPECT_EQ(unknown_source(all, "postgres", "orders"), "");
  const std::string msg = unknown_source(all, "postgres", "127.0.0.1:5432");
  EXPECT_TRUE(has(msg, "no postgres recovery point of source '127.0.0.1:5432'")) << msg;
  EXPECT_TRUE(has(msg, "orders, postgres-7716596439454850734")) << msg;
  EXPECT_FALSE(has(msg, "redis-127")) << msg;
  EXPECT_TRUE(has(unknown_source(all, "kafka", "events"), "nor of any other kafka source"));
}

}  // namespace
}  // namespace arca::drill
