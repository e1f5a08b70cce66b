#include "repo/locks.h"

#include <nlohmann/json.hpp>

#include "crypto/random.h"
#include "repo/config.h"
#include "repo/object_names.h"
#include "repo/repository.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/host.h"

namespace arca {

using nlohmann::json;

const char* lock_mode_name(LockMode m) {
  switch (m) {
    case LockMode::Governance:
      return "governance";
    case LockMode::Compliance:
      return "compliance";
    case LockMode::LegalHold:
      return "legal-hold";
  }
  return "?";
}

LockMode parse_lock_mode(const std::string& s) {
  if (s == "governance") return LockMode::Governance;
  if (s == "compliance") return LockMode::Compliance;
  if (s == "legal-hold") return LockMode::LegalHold;
  throw Error(ErrorKind::Usage, "unknown lock mode '" + s + "': use governance, compliance or legal-hold");
}

std::string SnapshotLock::describe() const {
  std::string s = mode == LockMode::LegalHold
                      ? "legal hold " + id.short_hex()
                      : std::string(lock_mode_name(mode)) + " lock " + id.short_hex() + " until " + until;
  return s;
}

std::string lock_object_name(const SnapshotLock& l) { return names::lock(l.snapshot, l.id); }

static std::string rfc3339_of(int64_t t) {
  time_t tt = time_t(t);
  struct tm tm;
  gmtime_r(&tt, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::vector<SnapshotLock> load_locks(const Repository& repo) {
  std::vector<std::string> locks, releases;
  std::map<std::string, names::LockName> parsed;
  repo.backend().list(names::kLocksPrefix, [&](const ObjectInfo& o) {
    auto l = names::parse_lock(o.name);
    if (!l) return;
    (l->release ? releases : locks).push_back(o.name);
    parsed.emplace(o.name, *l);
  });
  std::map<std::string, json> released;
  for (const auto& name : releases) {
    Bytes b = repo.load_object(name);
    try {
      const auto& l = parsed.at(name);
      released[names::lock(l.snapshot, l.lock)] = json::parse(b.begin(), b.end());
    } catch (const json::exception& e) {
      throw Error(ErrorKind::Corrupt, name + " is malformed: " + e.what());
    }
  }
  std::vector<SnapshotLock> out;
  for (const auto& name : locks) {
    Bytes b = repo.load_object(name);
    try {
      json j = json::parse(b.begin(), b.end());
      SnapshotLock l;
      l.snapshot = parsed.at(name).snapshot;
      l.id = parsed.at(name).lock;
      l.mode = parse_lock_mode(j.at("mode").get<std::string>());
      if (l.mode != LockMode::LegalHold) {
        l.until_unix = j.at("until_unix").get<int64_t>();
        l.until = j.at("until").get<std::string>();
      }
      l.created = j.value("created", "");
      l.host = j.value("host", "");
      l.user = j.value("user", "");
      l.reason = j.value("reason", "");
      if (auto it = released.find(name); it != released.end() && l.mode != LockMode::Compliance) {
        l.released = true;
        l.released_at = it->second.value("released", "");
        l.release_reason = it->second.value("reason", "");
      }
      out.push_back(std::move(l));
    } catch (const json::exception& e) {
      throw Error(ErrorKind::Corrupt, name + " is malformed: " + e.what());
    } catch (const Error& e) {
      throw Error(ErrorKind::Corrupt, name + ": " + e.what());
    }
  }
  return out;
}

std::map<Id, std::vector<SnapshotLock>> active_locks(const std::vector<SnapshotLock>& all, int64_t now) {
  std::map<Id, std::vector<SnapshotLock>> out;
  for (const auto& l : all)
    if (l.active(now)) out[l.snapshot].push_back(l);
  return out;
}

SnapshotLock add_lock(Repository& repo, const Id& snapshot, LockMode mode, int64_t until_unix,
                      const std::string& reason) {
  SnapshotLock l;
  l.id = random_id();
  l.snapshot = snapshot;
  l.mode = mode;
  l.created = now_rfc3339();
  l.host = local_hostname();
  l.user = local_username();
  l.reason = reason;
  json j = {
      {"mode", lock_mode_name(mode)}, {"created", l.created}, {"host", l.host}, {"user", l.user}, {"reason", reason}};
  if (mode != LockMode::LegalHold) {
    l.until_unix = until_unix;
    l.until = rfc3339_of(until_unix);
    j["until"] = l.until;
    j["until_unix"] = until_unix;
  }
  std::string s = j.dump();
  repo.save_object(lock_object_name(l), as_view(s));
  return l;
}

void release_lock(Repository& repo, const SnapshotLock& lock, const std::string& reason) {
  if (lock.mode == LockMode::Compliance)
    throw Error(ErrorKind::Refused,
                lock.describe() + " is a compliance lock: nobody can lift or shorten it before it expires");
  json j = {{"released", now_rfc3339()}, {"host", local_hostname()}, {"user", local_username()}, {"reason", reason}};
  std::string s = j.dump();
  if (!repo.save_object_if_absent(names::lock_release(lock.snapshot, lock.id), as_view(s)))
    throw Error(ErrorKind::Usage, lock.describe() + " was already released");
}

}  // namespace arca
