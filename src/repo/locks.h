// Retention locks on recovery points (docs/repository-format.md §14), as immutable objects:
//   locks/<snapshot id>/<lock id>           the lock
//   locks/<snapshot id>/<lock id>.release   its release (governance and legal holds only)
// A lock is active until its retain-until time (governance, compliance) or until released (legal
// hold, and governance before its time). Nothing is ever rewritten: a compliance lock has no
// release, and a lock can only be outlasted by adding a later one, never shortened.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "util/bytes.h"

namespace arca {

class Repository;

enum class LockMode { Governance, Compliance, LegalHold };
const char* lock_mode_name(LockMode m);          // "governance", "compliance", "legal-hold"
LockMode parse_lock_mode(const std::string& s);  // throws Error(Usage)

struct SnapshotLock {
  Id id, snapshot;
  LockMode mode = LockMode::Governance;
  int64_t until_unix = 0;  // not for legal holds
  std::string until;       // RFC 3339, empty for legal holds
  std::string created, host, user, reason;
  bool released = false;
  std::string released_at, release_reason;

  bool active(int64_t now) const { return !released && (mode == LockMode::LegalHold || until_unix > now); }
  // "compliance lock 1a2b3c4d until 2033-12-01T00:00:00Z" / "legal hold 1a2b3c4d"
  std::string describe() const;
};

std::string lock_object_name(const SnapshotLock& l);
// Every lock with its release state; a damaged lock object is an error (never read as "unlocked").
std::vector<SnapshotLock> load_locks(const Repository& repo);
// Active locks by snapshot.
std::map<Id, std::vector<SnapshotLock>> active_locks(const std::vector<SnapshotLock>& all, int64_t now);

SnapshotLock add_lock(Repository& repo, const Id& snapshot, LockMode mode, int64_t until_unix,
                      const std::string& reason);
// Writes the release object. Refuses (Error Refused) compliance locks; the caller has checked the
// second factor.
void release_lock(Repository& repo, const SnapshotLock& lock, const std::string& reason);

}  // namespace arca
