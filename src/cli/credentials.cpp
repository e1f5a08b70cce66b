// The repository password or key file of a command: flags, ARCA_* variables, a command's output
// or a terminal prompt. Secrets never reach argv, the environment of children, or logs.
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>

#include "cli/common.h"
#include "util/error.h"
#include "util/subprocess.h"

namespace arca {
std::string read_password_file(const std::string& path) {
  std::ifstream f(path);
  if (!f && errno == ENOENT) throw Error(ErrorKind::NotFound, "password file " + path + " does not exist");
  if (!f) throw Error(ErrorKind::Usage, "cannot read password file " + path + ": " + std::strerror(errno));
  std::string line;
  std::getline(f, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  return line;
}

std::string prompt_secret(const std::string& prompt) {
  FILE* tty = fopen("/dev/tty", "r+");
  if (!tty)
    throw Error(ErrorKind::Usage,
                "no password given and no terminal to ask on: use --password-file, --password-command or --key-file, "
                "or set ARCA_PASSWORD_FILE, ARCA_PASSWORD or ARCA_PASSWORD_COMMAND");
  fprintf(tty, "%s", prompt.c_str());
  fflush(tty);
  termios old{}, quiet{};
  int fd = fileno(tty);
  bool have_term = tcgetattr(fd, &old) == 0;
  if (have_term) {
    quiet = old;
    quiet.c_lflag &= ~tcflag_t(ECHO);
    tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  char buf[1024];
  bool ok = fgets(buf, sizeof buf, tty) != nullptr;
  if (have_term) tcsetattr(fd, TCSAFLUSH, &old);
  fprintf(tty, "\n");
  fclose(tty);
  if (!ok) throw Error(ErrorKind::Usage, "no password entered");
  std::string s = buf;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// The password from a command's output (restic's --password-command): the command line goes to
// /bin/sh as given, and the password only through the pipe, never in any argv or environment.
static std::string run_password_command(const std::string& command) {
  // The operator's own command may need cloud or vault tokens, never Arca's own credentials.
  Subprocess p({"/bin/sh", "-c", command}, Subprocess::Stdout::Pipe, "", Subprocess::Stdin::Null, {},
               ChildEnv::OperatorCommand);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(p.stdout_fd(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (out.size() < 65536) out.append(buf, size_t(n));
  }
  int rc = p.wait();
  if (rc != 0)
    throw Error(ErrorKind::Auth,
                "the password command '" + command + "' failed (exit " + std::to_string(rc) + "): " + p.stderr_text());
  std::string line = out.substr(0, out.find('\n'));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

Credentials get_credentials(const GlobalOptions& g, bool confirm, const std::string& prompt) {
  Credentials c;
  // Two ways of giving the secret on one command line are a mistake: say so, rather than use one
  // and report the other's repository as a wrong password.
  int given = !g.key_file.empty() + !g.password_file.empty() + !g.password_command.empty();
  if (given > 1) throw Error(ErrorKind::Usage, "give only one of --key-file, --password-file and --password-command");
  if (!g.password_command.empty()) {
    c.passphrase = run_password_command(g.password_command);
    if (c.passphrase->empty()) throw Error(ErrorKind::Usage, "the password command printed an empty password");
    return c;
  }
  std::string key_file = g.key_file;
  if (key_file.empty())
    if (const char* e = std::getenv("ARCA_KEY_FILE")) key_file = e;
  if (!key_file.empty()) {
    c.key_file = key_file;
    return c;
  }
  std::string pw_file = g.password_file;
  if (pw_file.empty())
    if (const char* e = std::getenv("ARCA_PASSWORD_FILE")) pw_file = e;
  if (!pw_file.empty()) {
    c.passphrase = read_password_file(pw_file);
  } else if (const char* e = std::getenv("ARCA_PASSWORD")) {
    c.passphrase = e;
  } else if (const char* e = std::getenv("ARCA_PASSWORD_COMMAND"); e && *e) {
    c.passphrase = run_password_command(e);
  } else {
    c.passphrase = prompt_secret(prompt.empty() ? "Repository password: " : prompt);
    if (confirm && prompt_secret("Repeat the password: ") != *c.passphrase)
      throw Error(ErrorKind::Usage, "the passwords do not match");
  }
  if (c.passphrase->empty()) throw Error(ErrorKind::Usage, "the password is empty");
  return c;
}

}  // namespace arca
