#include <unistd.h>

#include <iostream>

#include "cli/cli_job.h"
#include "cli/commands.h"
#include "ops/error_table.h"
#include "ops/locks.h"

namespace arca {

namespace {

// A compliance lock cannot be lifted or shortened by anyone: the operator sees the end date and
// confirms it (typing yes at a terminal, or --yes).
bool ask_compliance(const std::string& what) {
  if (!isatty(STDIN_FILENO)) return false;
  std::cerr << "This adds " << what << ".\nType yes to confirm: " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  if (answer != "yes") throw Error(ErrorKind::Refused, "not confirmed: no lock added");
  return true;
}

void register_lock_add(CLI::App& lock, GlobalOptions& g) {
  auto* add = lock.add_subcommand("add",
                                  "Lock recovery points: forget and prune keep them and every object they need. On S3 "
                                  "buckets with Object Lock the store enforces it too");
  add_global_options(*add, g);
  auto req = std::make_shared<ops::LockAddRequest>();
  add->add_option("snapshots", req->snapshots, "Recovery points (ids, unique prefixes or 'latest')")->required();
  add->add_option("--mode", req->mode,
                  "governance (liftable with a TOTP code), compliance (nobody can lift it) or legal-hold "
                  "(no end date, until released)")
      ->capture_default_str();
  add->add_option("--until", req->until, "Retain until this time (RFC 3339)");
  add->add_option("--for", req->span, "Retain for this span from now (e.g. 90d, 6mo, 7y, 30min; a bare m is refused)");
  add->add_option("--reason", req->reason, "Why (shown in listings and refusals)");
  add->add_flag("-y,--yes", req->confirmed, "Confirm a compliance lock without the prompt (it shows the end date)");
  add->add_option("--store-lock", req->store,
                  "Also set Object Lock retention on the stored objects: auto (when the store "
                  "has it), on (fail without it) or off")
      ->capture_default_str();
  set_command(*add, [&g, req] {
    auto repo = open_repository(g);
    CliJob job(g);
    ops::LockAddRequest r = *req;
    r.ask = ask_compliance;
    ops::LockAddResult res = ops::add_locks(*repo, r, job.ctx());
    if (res.needs_confirmation)
      throw Error(ErrorKind::Refused, "this would add " + res.confirmation_reason + "; add --yes to confirm");
    if (g.json) {
      print_json(res.to_json());
    } else if (!g.quiet) {
      for (const auto& a : res.added) {
        std::cout << "recovery point " << a.lock.snapshot.short_hex() << ": " << a.lock.describe() << "\n";
        if (a.store.objects)
          std::cout << "  the store holds " << a.store.objects << " objects it needs under Object Lock\n";
        else if (!a.store.note.empty())
          std::cout << "  note: " << a.store.note << "\n";
      }
    }
    return kExitOk;
  });
}

void register_lock_list(CLI::App& lock, GlobalOptions& g) {
  auto* list = lock.add_subcommand("list", "List locks (active ones unless --all)");
  add_global_options(*list, g);
  auto all = std::make_shared<bool>(false);
  list->add_flag("--all", *all, "Also expired and released locks");
  set_command(*list, [&g, all] {
    auto repo = open_repository(g);
    ops::LockListResult r = ops::list_locks(*repo, *all);
    if (g.json) {
      print_json(r.to_json());
      return kExitOk;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& l : r.locks) {
      std::string state = l.released ? "released" : l.active(r.now) ? "active" : "expired";
      rows.push_back({l.id.short_hex(), l.snapshot.short_hex(), lock_mode_name(l.mode),
                      l.until.empty() ? "-" : short_time(l.until), state, l.reason});
    }
    print_table({"Lock", "Recovery point", "Mode", "Until (UTC)", "State", "Reason"}, rows);
    return kExitOk;
  });
}

void register_lock_release(CLI::App& lock, GlobalOptions& g) {
  auto* release =
      lock.add_subcommand("release",
                          "Lift a governance lock or release a legal hold (needs a TOTP code from the second "
                          "factor enrolled with 'arca mfa enroll'); compliance locks cannot be lifted");
  add_global_options(*release, g);
  auto req = std::make_shared<ops::LockReleaseRequest>();
  release->add_option("lock", req->lock, "Lock id or unique prefix (see 'arca lock list')")->required();
  release->add_option("--totp", req->totp, "The current code from the enrolled authenticator")->required();
  release->add_option("--reason", req->reason, "Why (recorded with the release)");
  set_command(*release, [&g, req] {
    auto repo = open_repository(g);
    CliJob job(g);
    ops::LockReleaseResult r = ops::release_lock(*repo, *req, job.ctx());
    if (g.json)
      print_json(r.to_json());
    else if (!g.quiet)
      std::cout << "released " << r.lock.describe() << " on recovery point " << r.lock.snapshot.short_hex() << "\n";
    return kExitOk;
  });
}

}  // namespace

void register_lock(CLI::App& app, GlobalOptions& g) {
  auto* lock = app.add_subcommand("lock", "Retention locks on recovery points: governance, compliance, legal holds");
  lock->require_subcommand(1);
  add_global_options(*lock, g);
  register_lock_add(*lock, g);
  register_lock_list(*lock, g);
  register_lock_release(*lock, g);
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
    CliJob job(g);
    MfaEnrollment e = ops::enroll_mfa(*repo, *account, job.ctx());
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
