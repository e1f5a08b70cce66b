#include "ops/locks.h"

#include <algorithm>
#include <ctime>
#include <optional>

#include "repo/config.h"
#include "repo/prune.h"
#include "repo/retention.h"
#include "repo/writer_sessions.h"
#include "util/clock.h"
#include "util/host.h"

namespace arca::ops {

namespace {

int64_t parse_until(const std::string& until, const std::string& span) {
  int64_t now = time(nullptr);
  if (!until.empty() && !span.empty()) throw Error(ErrorKind::Usage, "give --until or --for, not both");
  if (!span.empty()) {
    // "7y" forward: the same calendar arithmetic as retention, mirrored.
    return now + span_seconds(parse_span(span), now);
  }
  if (until.empty()) throw Error(ErrorKind::Usage, "governance and compliance locks need --until TIME or --for SPAN");
  auto t = parse_time(until);
  if (!t)
    throw Error(ErrorKind::Usage,
                "--until '" + until + "': give an RFC 3339 time with a zone, e.g. 2027-01-31T00:00:00Z");
  if (int64_t(*t) <= now) throw Error(ErrorKind::Usage, "--until " + until + " is in the past");
  return int64_t(*t);
}

std::string utc_text(int64_t t) {
  time_t tt = time_t(t);
  struct tm tm {};
  gmtime_r(&tt, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// What a compliance lock commits to, for the operator to confirm: nobody can lift or shorten it.
std::string compliance_commitment(size_t points, int64_t until) {
  int64_t left = until - time(nullptr);
  std::string span = left >= 2 * 86400 ? std::to_string(left / 86400) + " days"
                     : left >= 7200    ? std::to_string(left / 3600) + " hours"
                                       : std::to_string((left + 59) / 60) + " minutes";
  return "a compliance lock on " + std::to_string(points) + " recovery point(s) until " + utc_text(until) + " (" +
         span + " from now): nobody can lift or shorten it, and their data cannot be deleted before then";
}

SnapshotLock find_lock(const std::vector<SnapshotLock>& all, const std::string& prefix) {
  std::vector<const SnapshotLock*> hits;
  for (const auto& l : all)
    if (l.id.hex().rfind(prefix, 0) == 0) hits.push_back(&l);
  if (prefix.size() < 4 || hits.empty())
    throw Error(ErrorKind::NotFound, "no lock " + prefix + " (see 'arca lock list')");
  if (hits.size() > 1) throw Error(ErrorKind::Usage, "lock id prefix " + prefix + " is ambiguous; give more digits");
  return *hits[0];
}

nlohmann::json lock_json(const SnapshotLock& l, int64_t now) {
  return {{"id", l.id.hex()},
          {"snapshot", l.snapshot.hex()},
          {"mode", lock_mode_name(l.mode)},
          {"until", l.until.empty() ? nlohmann::json(nullptr) : nlohmann::json(l.until)},
          {"created", l.created},
          {"host", l.host},
          {"user", l.user},
          {"reason", l.reason},
          {"released", l.released},
          {"active", l.active(now)}};
}

}  // namespace

nlohmann::json LockAddResult::to_json() const {
  nlohmann::json out = nlohmann::json::array();
  int64_t now = time(nullptr);
  for (const auto& a : added) {
    auto j = lock_json(a.lock, now);
    j["store_locked_objects"] = a.store.objects;
    j["store_lock_note"] = a.store.note;
    out.push_back(j);
  }
  return out;
}

LockAddResult add_locks(Repository& repo, const LockAddRequest& req, JobContext& ctx) {
  LockMode mode = parse_lock_mode(req.mode);
  // A compliance lock binds storage for years with no way back: not for a backed-up host's key.
  if (mode == LockMode::Compliance && repo.append_only())
    throw Error(ErrorKind::Refused, "append-only key " + repo.key_id().substr(0, 8) +
                                        " cannot add compliance locks (nobody could lift them); use an operator's key");
  int64_t until = 0;
  if (mode != LockMode::LegalHold)
    until = parse_until(req.until, req.span);
  else if (!req.until.empty() || !req.span.empty())
    throw Error(ErrorKind::Usage, "a legal hold has no end date: drop --until/--for");
  if (req.store != "auto" && req.store != "on" && req.store != "off")
    throw Error(ErrorKind::Usage, "--store-lock takes auto, on or off");
  LockAddResult r;
  if (mode == LockMode::Compliance && !req.confirmed) {
    std::string what = compliance_commitment(req.snapshots.size(), until);
    if (!(req.ask && req.ask(what))) {
      r.needs_confirmation = true;
      r.confirmation_reason = what;
      return r;
    }
  }
  // All or nothing: every point is resolved before the first lock is written, so an unknown or
  // ambiguous id leaves nothing locked.
  std::vector<Snapshot> points;
  for (const auto& ref : req.snapshots) points.push_back(repo.find_snapshot(ref));
  for (const auto& s : points) {
    ctx.cancel.check("lock add");
    AddedLock a{add_lock(repo, s.id, mode, until, req.reason), {}};
    if (req.store != "off") a.store = apply_store_lock(repo, s, a.lock, req.store == "on");
    r.added.push_back(std::move(a));
  }
  return r;
}

nlohmann::json LockListResult::to_json() const {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& l : locks) j.push_back(lock_json(l, now));
  return j;
}

LockListResult list_locks(const Repository& repo, bool all) {
  LockListResult r;
  r.now = time(nullptr);
  auto locks = load_locks(repo);
  std::sort(locks.begin(), locks.end(),
            [](const SnapshotLock& a, const SnapshotLock& b) { return a.created < b.created; });
  for (auto& l : locks)
    if (all || l.active(r.now)) r.locks.push_back(std::move(l));
  return r;
}

LockReleaseResult release_lock(Repository& repo, const LockReleaseRequest& req, JobContext&) {
  int64_t now = time(nullptr);
  SnapshotLock l = find_lock(load_locks(repo), req.lock);
  if (l.mode == LockMode::Compliance)
    throw Error(ErrorKind::Refused,
                l.describe() + " is a compliance lock: nobody can lift or shorten it before it expires");
  if (!l.active(now)) throw Error(ErrorKind::Usage, l.describe() + " is no longer active");
  if (repo.append_only())
    throw Error(ErrorKind::Refused,
                "append-only key " + repo.key_id().substr(0, 8) + " cannot release locks; use an operator's key");
  if (req.totp.empty())
    throw Error(ErrorKind::Auth, "releasing " + l.describe() +
                                     " needs the current code of the second factor enrolled with 'arca mfa enroll'");
  mfa_verify(repo, req.totp);
  arca::release_lock(repo, l, req.reason);
  return {l};
}

MfaEnrollment enroll_mfa(Repository& repo, const std::string& account, JobContext&) {
  if (repo.append_only())
    throw Error(ErrorKind::Refused, "append-only key " + repo.key_id().substr(0, 8) + " cannot enroll a second factor");
  return mfa_enroll(repo, account.empty() ? local_username() + "@" + local_hostname() : account);
}

UnlockResult unlock(Repository& repo, bool remove_all, JobContext&) {
  UnlockResult r;
  for (const auto& w : list_writers(repo)) {
    if (writer_is_stale(w) || (remove_all && !writer_is_running_here(w))) {
      remove_writer(repo, w);
      r.removed++;
    } else {
      r.kept.push_back("backup registration " + describe(w));
    }
  }
  if (std::optional<WriterRecord> prune = prune_lock_holder(repo)) {
    if (writer_is_stale(*prune) || (remove_all && !writer_is_running_here(*prune))) {
      PruneLock::force_remove(repo);
      r.removed++;
    } else {
      r.kept.push_back("prune lock " + describe(*prune));
    }
  }
  return r;
}

}  // namespace arca::ops
