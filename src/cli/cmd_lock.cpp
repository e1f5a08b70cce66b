#include <unistd.h>

#include <ctime>
#include <iostream>

#include "cli/commands.h"
#include "ops/error_table.h"
#include "repo/config.h"
#include "repo/locks.h"
#include "repo/mfa.h"
#include "repo/object_lock.h"
#include "repo/retention.h"

namespace arca {

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

// A compliance lock cannot be lifted or shortened by anyone: the operator sees the end date and
// confirms it (typing yes at a terminal, or --yes).
void confirm_compliance(size_t points, int64_t until, bool yes) {
  int64_t left = until - time(nullptr);
  std::string span = left >= 2 * 86400 ? std::to_string(left / 86400) + " days"
                     : left >= 7200    ? std::to_string(left / 3600) + " hours"
                                       : std::to_string((left + 59) / 60) + " minutes";
  std::string what = "a compliance lock on " + std::to_string(points) + " recovery point(s) until " + utc_text(until) +
                     " (" + span +
                     " from now): nobody can lift or shorten it, and their data cannot be deleted before then";
  if (yes) return;
  if (!isatty(STDIN_FILENO)) throw Error(ErrorKind::Refused, "this would add " + what + "; add --yes to confirm");
  std::cerr << "This adds " << what << ".\nType yes to confirm: " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  if (answer != "yes") throw Error(ErrorKind::Refused, "not confirmed: no lock added");
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

void register_lock(CLI::App& app, GlobalOptions& g) {
  auto* lock = app.add_subcommand("lock", "Retention locks on recovery points: governance, compliance, legal holds");
  lock->require_subcommand(1);
  add_global_options(*lock, g);

  auto* add = lock->add_subcommand("add",
                                   "Lock recovery points: forget and prune keep them and every object they need. On S3 "
                                   "buckets with Object Lock the store enforces it too");
  add_global_options(*add, g);
  struct AddArgs {
    std::vector<std::string> snapshots;
    std::string mode = "governance", until, span, reason, store = "auto";
    bool yes = false;
  };
  auto aa = std::make_shared<AddArgs>();
  add->add_option("snapshots", aa->snapshots, "Recovery points (ids, unique prefixes or 'latest')")->required();
  add->add_option("--mode", aa->mode,
                  "governance (liftable with a TOTP code), compliance (nobody can lift it) or legal-hold "
                  "(no end date, until released)")
      ->capture_default_str();
  add->add_option("--until", aa->until, "Retain until this time (RFC 3339)");
  add->add_option("--for", aa->span, "Retain for this span from now (e.g. 90d, 6mo, 7y, 30min; a bare m is refused)");
  add->add_option("--reason", aa->reason, "Why (shown in listings and refusals)");
  add->add_flag("-y,--yes", aa->yes, "Confirm a compliance lock without the prompt (it shows the end date)");
  add->add_option("--store-lock", aa->store,
                  "Also set Object Lock retention on the stored objects: auto (when the store "
                  "has it), on (fail without it) or off")
      ->capture_default_str();
  set_command(*add, [&g, aa] {
    auto repo = open_repository(g);
    LockMode mode = parse_lock_mode(aa->mode);
    // A compliance lock binds storage for years with no way back: not for a backed-up host's key.
    if (mode == LockMode::Compliance && repo->append_only())
      throw Error(ErrorKind::Refused,
                  "append-only key " + repo->key_id().substr(0, 8) +
                      " cannot add compliance locks (nobody could lift them); use an operator's key");
    int64_t until = 0;
    if (mode != LockMode::LegalHold)
      until = parse_until(aa->until, aa->span);
    else if (!aa->until.empty() || !aa->span.empty())
      throw Error(ErrorKind::Usage, "a legal hold has no end date: drop --until/--for");
    if (aa->store != "auto" && aa->store != "on" && aa->store != "off")
      throw Error(ErrorKind::Usage, "--store-lock takes auto, on or off");
    if (mode == LockMode::Compliance) confirm_compliance(aa->snapshots.size(), until, aa->yes);
    nlohmann::json out = nlohmann::json::array();
    for (const auto& ref : aa->snapshots) {
      Snapshot s = repo->find_snapshot(ref);
      SnapshotLock l = add_lock(*repo, s.id, mode, until, aa->reason);
      StoreLockResult st;
      if (aa->store != "off") st = apply_store_lock(*repo, s, l, aa->store == "on");
      if (g.json) {
        auto j = lock_json(l, time(nullptr));
        j["store_locked_objects"] = st.objects;
        j["store_lock_note"] = st.note;
        out.push_back(j);
      } else if (!g.quiet) {
        std::cout << "recovery point " << s.id.short_hex() << ": " << l.describe() << "\n";
        if (st.objects)
          std::cout << "  the store holds " << st.objects << " objects it needs under Object Lock\n";
        else if (!st.note.empty())
          std::cout << "  note: " << st.note << "\n";
      }
    }
    if (g.json) print_json(out);
    return kExitOk;
  });

  auto* list = lock->add_subcommand("list", "List locks (active ones unless --all)");
  add_global_options(*list, g);
  auto all = std::make_shared<bool>(false);
  list->add_flag("--all", *all, "Also expired and released locks");
  set_command(*list, [&g, all] {
    auto repo = open_repository(g);
    int64_t now = time(nullptr);
    auto locks = load_locks(*repo);
    std::sort(locks.begin(), locks.end(),
              [](const SnapshotLock& a, const SnapshotLock& b) { return a.created < b.created; });
    if (g.json) {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& l : locks)
        if (*all || l.active(now)) j.push_back(lock_json(l, now));
      print_json(j);
      return kExitOk;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& l : locks) {
      if (!*all && !l.active(now)) continue;
      std::string state = l.released ? "released" : l.active(now) ? "active" : "expired";
      rows.push_back({l.id.short_hex(), l.snapshot.short_hex(), lock_mode_name(l.mode),
                      l.until.empty() ? "-" : short_time(l.until), state, l.reason});
    }
    print_table({"Lock", "Recovery point", "Mode", "Until (UTC)", "State", "Reason"}, rows);
    return kExitOk;
  });

  auto* release =
      lock->add_subcommand("release",
                           "Lift a governance lock or release a legal hold (needs a TOTP code from the second "
                           "factor enrolled with 'arca mfa enroll'); compliance locks cannot be lifted");
  add_global_options(*release, g);
  struct ReleaseArgs {
    std::string id, totp, reason;
  };
  auto ra = std::make_shared<ReleaseArgs>();
  release->add_option("lock", ra->id, "Lock id or unique prefix (see 'arca lock list')")->required();
  release->add_option("--totp", ra->totp, "The current code from the enrolled authenticator")->required();
  release->add_option("--reason", ra->reason, "Why (recorded with the release)");
  set_command(*release, [&g, ra] {
    auto repo = open_repository(g);
    int64_t now = time(nullptr);
    SnapshotLock l = find_lock(load_locks(*repo), ra->id);
    if (l.mode == LockMode::Compliance)
      throw Error(ErrorKind::Refused,
                  l.describe() + " is a compliance lock: nobody can lift or shorten it before it expires");
    if (!l.active(now)) throw Error(ErrorKind::Usage, l.describe() + " is no longer active");
    if (repo->append_only())
      throw Error(ErrorKind::Refused,
                  "append-only key " + repo->key_id().substr(0, 8) + " cannot release locks; use an operator's key");
    mfa_verify(*repo, ra->totp);
    release_lock(*repo, l, ra->reason);
    if (g.json)
      print_json({{"released", l.id.hex()}});
    else if (!g.quiet)
      std::cout << "released " << l.describe() << " on recovery point " << l.snapshot.short_hex() << "\n";
    return kExitOk;
  });
}

void register_mfa(CLI::App& app, GlobalOptions& g) {
  auto* mfa = app.add_subcommand("mfa", "The repository's second factor (TOTP), needed to lift governance locks");
  mfa->require_subcommand(1);
  add_global_options(*mfa, g);
  auto* enroll = mfa->add_subcommand("enroll", "Create the TOTP secret: add it to an authenticator app, keep it safe");
  add_global_options(*enroll, g);
  auto account = std::make_shared<std::string>();
  enroll->add_option("--account", *account, "Name shown in the authenticator app (default: user@host)");
  set_command(*enroll, [&g, account] {
    auto repo = open_repository(g);
    if (repo->append_only())
      throw Error(ErrorKind::Refused,
                  "append-only key " + repo->key_id().substr(0, 8) + " cannot enroll a second factor");
    std::string acct = account->empty() ? local_username() + "@" + local_hostname() : *account;
    MfaEnrollment e = mfa_enroll(*repo, acct);
    if (g.json)
      print_json({{"secret", e.secret_base32}, {"uri", e.uri}});
    else
      std::cout << "second factor enrolled.\nsecret (base32): " << e.secret_base32
                << "\nURI for authenticator apps: " << e.uri
                << "\nThis secret is shown once; 'arca lock release' asks for its current 6-digit code.\n";
    return kExitOk;
  });
}

}  // namespace arca
