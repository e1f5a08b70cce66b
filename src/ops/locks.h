// Retention locks on recovery points and the repository's second factor: `arca lock add|list|
// release`, `arca mfa enroll`, and `arca unlock` (locks crashed commands left). The rules live
// here: append-only keys neither add compliance locks nor release anything nor enroll, and a
// release needs a current TOTP code, so every front end enforces the same.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "repo/locks.h"
#include "repo/mfa.h"
#include "repo/object_lock.h"
#include "repo/repository.h"
#include "util/job_context.h"

namespace arca::ops {

struct LockAddRequest {
  std::vector<std::string> snapshots;  // ids, unique prefixes or "latest"
  std::string mode = "governance";     // governance, compliance, legal-hold
  std::string until, span;             // RFC 3339 end, or a span from now (not for legal holds)
  std::string reason;
  std::string store = "auto";  // Object Lock on the stored objects: auto, on, off
  bool confirmed = false;      // a compliance lock binds for years: it needs confirmation
  // Asked (with what would be added) when a compliance lock is not `confirmed`; true goes ahead.
  // Null, or false: nothing is added and the result says why.
  std::function<bool(const std::string& what)> ask;
};

struct AddedLock {
  SnapshotLock lock;
  StoreLockResult store;
};

struct LockAddResult {
  std::vector<AddedLock> added;
  bool needs_confirmation = false;  // set: nothing was added
  std::string confirmation_reason;  // "a compliance lock on 2 recovery point(s) until …"
  nlohmann::json to_json() const;   // lock add --json
};

LockAddResult add_locks(Repository& repo, const LockAddRequest& req, JobContext& ctx);

struct LockListResult {
  std::vector<SnapshotLock> locks;  // oldest first; active only unless all was asked
  int64_t now = 0;
  nlohmann::json to_json() const;
};

LockListResult list_locks(const Repository& repo, bool all);

struct LockReleaseRequest {
  std::string lock;  // lock id or unique prefix (at least 4 digits)
  std::string totp;  // the current code of the enrolled second factor
  std::string reason;
};

struct LockReleaseResult {
  SnapshotLock lock;
  nlohmann::json to_json() const { return {{"released", lock.id.hex()}}; }
};

// Refuses (Error Refused) compliance locks, append-only keys and repositories without a second
// factor; Error(Auth) for a missing, wrong, expired or reused code; Error(Usage) for a lock that
// is no longer active.
LockReleaseResult release_lock(Repository& repo, const LockReleaseRequest& req, JobContext& ctx);

// `account`: shown in authenticator apps (empty: user@host). Refuses append-only keys.
MfaEnrollment enroll_mfa(Repository& repo, const std::string& account, JobContext& ctx);

struct UnlockResult {
  size_t removed = 0;
  std::vector<std::string> kept;  // "backup registration …", "prune lock …" (running, or another host's)
  nlohmann::json to_json() const { return {{"removed", removed}, {"kept", kept.size()}}; }
};

// Removes the prune lock and backup registrations whose process is gone on this host; with
// `remove_all` also those of other hosts. A process running on this host keeps its lock.
UnlockResult unlock(Repository& repo, bool remove_all, JobContext& ctx);

}  // namespace arca::ops
