#include "cli/process_hardening.h"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string_view>

namespace arca {

void disable_core_dumps() {
  // 1, yes or true (any case) allow them; any other value is warned about, not silently ignored.
  if (const char* e = std::getenv("ARCA_ALLOW_CORE_DUMPS"); e && *e) {
    std::string v(e);
    for (char& c : v) c = char(std::tolower(uint8_t(c)));
    if (v == "1" || v == "yes" || v == "true") return;
    if (v != "0" && v != "no" && v != "false")
      std::fprintf(stderr,
                   "warning: ARCA_ALLOW_CORE_DUMPS=%.40s is not 1, yes or true (nor 0, no or false): core dumps "
                   "stay disabled\n",
                   e);
  }
  // Non-dumpable: no core file (and no ptrace or /proc/PID/mem, environ by other users). The
  // soft limit covers systems whose fs.suid_dumpable=2 still dumps non-dumpable processes; the
  // hard limit stays, so a child that wants cores (pg_ctl -c) can raise it again.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  rlimit rl{};
  if (getrlimit(RLIMIT_CORE, &rl) == 0) {
    rl.rlim_cur = 0;
    setrlimit(RLIMIT_CORE, &rl);
  }
}

namespace {

enum class SecretKind { RedisUrl, PgConn, RedisServerOption, OtherUrl };

void mask(char* from, char* to) {
  for (char* p = from; p < to; p++) *p = '*';
}

bool scheme_char(char c) { return std::isalnum(uint8_t(c)) || c == '+' || c == '-' || c == '.'; }

// scheme://user:PASSWORD@host… (and redis://PASSWORD@host, redis-cli's form).
void scrub_urls(char* s, std::set<SecretKind>& found) {
  for (char* p = std::strstr(s, "://"); p; p = std::strstr(p + 3, "://")) {
    char* scheme = p;
    while (scheme > s && scheme_char(scheme[-1])) scheme--;
    std::string_view name(scheme, size_t(p - scheme));
    char* auth = p + 3;
    char* end = auth + std::strcspn(auth, "/?# \t");
    char* at = nullptr;
    for (char* q = auth; q < end; q++)
      if (*q == '@') at = q;
    if (!at) continue;
    bool redis = name == "redis" || name == "rediss";
    char* colon = static_cast<char*>(std::memchr(auth, ':', size_t(at - auth)));
    char* pw = colon ? colon + 1 : redis ? auth : at;
    if (pw >= at) continue;
    mask(pw, at);
    found.insert(redis                            ? SecretKind::RedisUrl
                 : name.rfind("postgres", 0) == 0 ? SecretKind::PgConn
                                                  : SecretKind::OtherUrl);
  }
}

// A libpq conninfo's password=VALUE (libpq allows spaces around '=': "password = VALUE", and a
// 'quoted value' with \' and \\ escapes), or a URI's ?password=/&password=.
void scrub_conninfo(char* s, std::set<SecretKind>& found) {
  static constexpr std::string_view kKey = "password";
  for (char* p = std::strstr(s, kKey.data()); p; p = std::strstr(p + 1, kKey.data())) {
    char before = p == s ? ' ' : p[-1];
    if (!std::isspace(uint8_t(before)) && before != '=' && before != '?' && before != '&') continue;
    bool uri = before == '?' || before == '&';
    char* v = p + kKey.size();
    if (!uri)
      while (std::isspace(uint8_t(*v))) v++;
    if (*v != '=') continue;
    v++;
    if (!uri)
      while (std::isspace(uint8_t(*v))) v++;
    char* end = v;
    if (*v == '\'' && !uri) {
      for (end = v + 1; *end && *end != '\''; end++)
        if (*end == '\\' && end[1]) end++;
      if (*end) end++;
    } else {
      end = v + std::strcspn(v, uri ? "&# \t" : " \t\n");
    }
    if (end > v) {
      mask(v, end);
      found.insert(SecretKind::PgConn);
    }
  }
}

// --server-option requirepass=VALUE / masterauth=VALUE (also --server-option=requirepass=…).
void scrub_server_option(char* s, std::set<SecretKind>& found) {
  std::string_view arg(s);
  size_t start = arg.rfind("--server-option=", 0) == 0 ? std::strlen("--server-option=") : 0;
  for (std::string_view key : {"requirepass=", "masterauth="}) {
    if (arg.substr(start).rfind(key, 0) != 0) continue;
    char* v = s + start + key.size();
    if (*v) {
      mask(v, v + std::strlen(v));
      found.insert(SecretKind::RedisServerOption);
    }
  }
}

}  // namespace

std::vector<std::string> scrub_argv_secrets(int argc, char** argv) {
  std::set<SecretKind> found;
  for (int i = 1; i < argc; i++) {
    scrub_urls(argv[i], found);
    scrub_conninfo(argv[i], found);
    scrub_server_option(argv[i], found);
  }
  const std::string visible =
      " on the command line is visible to other users of this machine (ps, /proc/PID/cmdline) until arca has "
      "started, and stays in shell history: ";
  std::vector<std::string> out;
  for (SecretKind k : found) switch (k) {
      case SecretKind::RedisUrl:
        out.push_back("the Redis password in the URL" + visible +
                      "give it in the REDISCLI_AUTH environment variable or with --redis-password-file FILE instead "
                      "(see docs/security.md)");
        break;
      case SecretKind::PgConn:
        out.push_back("the PostgreSQL password in the connection string" + visible +
                      "use PGPASSWORD, ~/.pgpass, PGPASSFILE or passfile=FILE instead (see docs/postgres.md)");
        break;
      case SecretKind::RedisServerOption:
        out.push_back("the redis-server password in --server-option" + visible +
                      "put the option in a file given with --server-option-file FILE instead (see docs/redis.md)");
        break;
      case SecretKind::OtherUrl:
        out.push_back("the password in a URL" + visible + "give it through the environment or a file instead");
        break;
    }
  return out;
}

}  // namespace arca
