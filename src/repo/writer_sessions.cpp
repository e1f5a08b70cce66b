#include "repo/writer_sessions.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <set>
#include <nlohmann/json.hpp>

#include "crypto/random.h"
#include "repo/config.h"
#include "repo/object_names.h"
#include "repo/repository.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/host.h"

namespace arca {

std::string process_domain() {
  std::string boot;
  if (FILE* f = fopen("/proc/sys/kernel/random/boot_id", "r")) {
    char buf[64] = {};
    if (fgets(buf, sizeof buf, f)) boot = buf;
    fclose(f);
    while (!boot.empty() && boot.back() == '\n') boot.pop_back();
  }
  char ns[128] = {};
  ssize_t n = readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
  return local_hostname() + "|" + boot + "|" + (n > 0 ? std::string(ns, size_t(n)) : "");
}

bool writer_is_stale(const WriterRecord& w) {
  if (w.done) return true;
  return !w.damaged && w.domain == process_domain() && w.pid > 0 && kill(w.pid, 0) != 0 && errno == ESRCH;
}

bool writer_is_running_here(const WriterRecord& w) {
  return !w.done && w.domain == process_domain() && w.pid > 0 && (kill(w.pid, 0) == 0 || errno == EPERM);
}

std::string register_writer(Repository& repo) {
  nlohmann::json me = {
      {"host", local_hostname()}, {"domain", process_domain()}, {"pid", getpid()}, {"started", now_rfc3339()}};
  std::string text = me.dump();
  for (;;) {
    std::string name = names::writer_session(random_id());
    if (repo.save_object_if_absent(name, as_view(text))) return name;
  }
}

void unregister_writer(Repository& repo, const std::string& name) noexcept {
  try {
    repo.backend().remove(name);
  } catch (const Error& e) {
    try {
      if (e.kind() == ErrorKind::Refused)
        repo.save_object_if_absent(names::writer_done(name), as_view(std::string("{}")));
    } catch (const std::exception&) {}
  } catch (const std::exception&) {}
}

std::vector<WriterRecord> list_writers(const Repository& repo) {
  std::vector<std::string> sessions;
  std::set<std::string> done;
  repo.backend().list(names::kWritersPrefix, [&](const ObjectInfo& o) {
    auto w = names::parse_writer(o.name);
    if (!w) return;
    if (w->done)
      done.insert(names::writer_session(w->id));
    else
      sessions.push_back(o.name);
  });
  std::vector<WriterRecord> out;
  for (const auto& name : sessions) {
    auto w = read_writer_record(repo, name);
    if (!w) continue;  // it ended meanwhile
    w->done = done.count(name) != 0;
    out.push_back(std::move(*w));
  }
  return out;
}

std::optional<WriterRecord> read_writer_record(const Repository& repo, const std::string& name) {
  WriterRecord w;
  w.name = name;
  try {
    Bytes b = repo.load_object(name);
    auto j = nlohmann::json::parse(b.begin(), b.end());
    w.host = j.value("host", "?");
    w.domain = j.value("domain", "");
    w.pid = j.value("pid", 0);
    w.started = j.value("started", "?");
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::NotFound) return std::nullopt;
    w.damaged = true;
  } catch (const std::exception&) {
    w.damaged = true;
  }
  return w;
}

void remove_writer(Repository& repo, const WriterRecord& w) {
  repo.backend().remove(w.name);
  if (w.done) repo.backend().remove(names::writer_done(w.name));
}

std::string describe(const WriterRecord& w) {
  if (w.damaged) return w.name + " (unreadable)";
  return "host " + w.host + ", pid " + std::to_string(w.pid) + ", since " + w.started;
}

}  // namespace arca
