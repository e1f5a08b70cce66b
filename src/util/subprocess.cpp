#include "util/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "util/cancel.h"
#include "util/error.h"

extern char** environ;

namespace arca {

static constexpr size_t kErrKeep = 64 * 1024;

bool child_env_keeps(std::string_view name, ChildEnv policy) {
  static constexpr std::string_view kArca[] = {"ARCA_PASSWORD", "ARCA_PASSWORD_FILE", "ARCA_PASSWORD_COMMAND",
                                               "ARCA_KEY_FILE"};
  static constexpr std::string_view kService[] = {"PGPASSWORD", "REDISCLI_AUTH"};
  static constexpr std::string_view kWords[] = {"PASSWORD", "PASSPHRASE", "SECRET", "TOKEN", "CREDENTIAL"};
  bool arca = false, service = false, store = name.rfind("AWS_", 0) == 0, other = false;
  for (auto n : kArca) arca |= name == n;
  for (auto n : kService) service |= name == n;
  if (!arca && !service && !store) {
    std::string upper(name);
    for (char& c : upper) c = char(std::toupper(uint8_t(c)));
    for (auto w : kWords) other |= upper.find(w) != std::string::npos;
  }
  switch (policy) {
    case ChildEnv::NoSecrets:
      return !(arca || service || store || other);
    case ChildEnv::OperatorCommand:
      return !(arca || service);
  }
  return false;
}

Subprocess::Subprocess(const std::vector<std::string>& argv, Stdout out, const std::string& cwd, Stdin in,
                       const std::vector<std::string>& env, ChildEnv policy) {
  if (argv.empty()) throw std::logic_error("Subprocess: empty argv");
  int inp[2] = {-1, -1}, outp[2] = {-1, -1}, errp[2] = {-1, -1};
  if (in == Stdin::Pipe && pipe2(inp, O_CLOEXEC) != 0) throw_errno("pipe", argv[0], errno);
  UniqueFd in_r(inp[0]), in_w(inp[1]);
  if (out == Stdout::Pipe && pipe2(outp, O_CLOEXEC) != 0) throw_errno("pipe", argv[0], errno);
  UniqueFd out_r(outp[0]), out_w(outp[1]);
  if (pipe2(errp, O_CLOEXEC) != 0) throw_errno("pipe", argv[0], errno);
  UniqueFd err_r(errp[0]), err_w(errp[1]);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (out == Stdout::Pipe) posix_spawn_file_actions_adddup2(&fa, out_w.get(), 1);
  if (out == Stdout::Null) posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, err_w.get(), 2);
  if (in == Stdin::Pipe)
    posix_spawn_file_actions_adddup2(&fa, in_r.get(), 0);
  else
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (char** e = environ; *e; e++) {
    std::string_view entry(*e);
    if (!child_env_keeps(entry.substr(0, entry.find('=')), policy)) continue;
    bool overridden = false;
    for (const auto& x : env)
      overridden |= entry.substr(0, entry.find('=') + 1) == std::string_view(x).substr(0, x.find('=') + 1);
    if (!overridden) envp.push_back(*e);
  }
  for (const auto& x : env) envp.push_back(const_cast<char*>(x.c_str()));
  envp.push_back(nullptr);
  // A child starts with no signal blocked and the stop signals at their defaults, whatever this
  // process's threads do with them (arca server takes SIGTERM/SIGHUP on one thread by blocking
  // them everywhere: a server it starts must still stop on SIGTERM).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  int rc = posix_spawnp(&pid_, argv[0].c_str(), &fa, &attr, args.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw Error(ErrorKind::NotFound, "cannot run " + argv[0] + ": " + std::strerror(rc));
  in_ = std::move(in_w);
  out_ = std::move(out_r);
  err_ = std::move(err_r);
  err_reader_ = std::thread([this] {
    char buf[4096];
    while (true) {
      ssize_t n = read(err_.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      err_text_.append(buf, size_t(n));
      if (err_text_.size() > 2 * kErrKeep) err_text_.erase(0, err_text_.size() - kErrKeep);
    }
  });
}

Subprocess::~Subprocess() {
  if (!waited_ && pid_ > 0) {
    kill(pid_, SIGTERM);
    wait();
  }
  if (err_reader_.joinable()) err_reader_.join();
}

int Subprocess::wait() {
  if (waited_) return status_;
  in_.reset();   // a child reading its input sees the end
  out_.reset();  // a child still writing gets EPIPE instead of blocking forever
  int st = 0;
  while (waitpid(pid_, &st, 0) < 0 && errno == EINTR) {}
  waited_ = true;
  status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  if (err_reader_.joinable()) err_reader_.join();
  return status_;
}

std::string Subprocess::stderr_text() {
  std::string s = err_text_.size() > kErrKeep ? err_text_.substr(err_text_.size() - kErrKeep) : err_text_;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::pair<int, std::string> run_program(const std::vector<std::string>& argv, const std::string& cwd, ChildEnv policy,
                                        const CancelToken* cancel, const char* what) {
  Subprocess p(argv, Subprocess::Stdout::Pipe, cwd, Subprocess::Stdin::Null, {}, policy);
  std::string out;
  char buf[4096];
  while (true) {
    await_readable(p.stdout_fd(), cancel, what);  // a cancel kills the program (~Subprocess)
    ssize_t n = read(p.stdout_fd(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (out.size() < kErrKeep) out.append(buf, size_t(n));
  }
  int rc = p.wait();
  std::string err = p.stderr_text();
  if (!err.empty()) out += (out.empty() || out.back() == '\n' ? "" : "\n") + err;
  return {rc, out};
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string find_program(const std::string& name) {
  struct stat st;
  if (name.find('/') != std::string::npos) return stat(name.c_str(), &st) == 0 ? name : "";
  const char* path = getenv("PATH");
  std::string p = path ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= p.size()) {
    size_t colon = p.find(':', start);
    std::string dir = p.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    std::string full = (dir.empty() ? "." : dir) + "/" + name;
    if (stat(full.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111)) return full;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return "";
}

}  // namespace arca
