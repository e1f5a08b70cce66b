#include <fcntl.h>
#include <unistd.h>

#include <iostream>

#include "cli/cli_job.h"
#include "cli/commands.h"
#include "ops/error_table.h"
#include "ops/keys.h"
#include "repo/key_files.h"

namespace arca {

namespace {

struct NewKeyArgs {
  std::string new_password_file, new_key_file;
  bool generate = false, append_only = false;
  Argon2Params kdf;
};

Credentials new_credentials(const NewKeyArgs& a) {
  Credentials c;
  if (!a.new_key_file.empty()) {
    if (a.generate) write_new_key_file(a.new_key_file);
    c.key_file = a.new_key_file;
  } else if (!a.new_password_file.empty()) {
    c.passphrase = read_password_file(a.new_password_file);
  } else {
    // Without a terminal the error is about the new password (the current one was given).
    if (int fd = open("/dev/tty", O_RDWR | O_CLOEXEC); fd >= 0)
      close(fd);
    else
      throw Error(ErrorKind::Usage,
                  "no new password given and no terminal to ask on: use --new-password-file"
                  " (or --new-key-file where offered)");
    c.passphrase = prompt_secret("New password: ");
    if (prompt_secret("Repeat the new password: ") != *c.passphrase)
      throw Error(ErrorKind::Usage, "the passwords do not match");
  }
  if (c.passphrase && c.passphrase->empty()) throw Error(ErrorKind::Usage, "the new password is empty");
  return c;
}

void add_new_key_options(CLI::App& cmd, NewKeyArgs& a, bool allow_key_file) {
  cmd.add_option("--new-password-file", a.new_password_file, "Read the new password from this file (else prompt)");
  if (allow_key_file) {
    cmd.add_option("--new-key-file", a.new_key_file, "Protect the new key with this key file instead of a password");
    cmd.add_flag("--generate", a.generate, "Create the --new-key-file with 64 random bytes (mode 0600)");
  }
  cmd.add_option("--kdf-memory", a.kdf.memory_kib, "Argon2id memory for the new password key, KiB")
      ->check(CLI::Range(64, 4 * 1024 * 1024))
      ->capture_default_str();
  cmd.add_option("--kdf-time", a.kdf.time_cost, "Argon2id passes")->check(CLI::Range(1, 100))->capture_default_str();
}

}  // namespace

void register_key(CLI::App& app, GlobalOptions& g) {
  auto* key = app.add_subcommand("key", "Manage the keys that open the repository, and data key rotation");
  key->require_subcommand(1);
  add_global_options(*key, g);  // `arca key --repo R list` as well as `arca key list --repo R`

  auto* list = key->add_subcommand("list", "List the keys (passwords and key files) that open the repository");
  add_global_options(*list, g);
  set_command(*list, [&g] {
    auto repo = open_repository(g);
    ops::KeyListResult r = ops::list_keys(*repo);
    if (g.json) {
      print_json(r.to_json());
      return kExitOk;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& k : r.keys)
      rows.push_back({(k.id == r.current ? "*" : " ") + k.id.substr(0, 8), k.kind,
                      k.role == KeyRole::AppendOnly ? "append-only" : "full", short_time(k.created), k.host, k.user});
    print_table({" ID", "Kind", "Role", "Created (UTC)", "Host", "User"}, rows);
    std::cout << "* = the key used now; data key version " << r.data_key_version << " is current\n";
    return kExitOk;
  });

  auto* add = key->add_subcommand("add", "Add a password or key file that opens the repository");
  add_global_options(*add, g);
  auto add_args = std::make_shared<NewKeyArgs>();
  add_new_key_options(*add, *add_args, true);
  add->add_flag("--append-only", add_args->append_only,
                "The new key adds recovery points but can never delete or replace anything (for backed-up hosts)");
  set_command(*add, [&g, add_args] {
    auto repo = open_repository(g);
    CliJob job(g);
    ops::refuse_key_add(*repo, add_args->append_only);  // before asking for the new password
    auto r = ops::add_key(*repo, {new_credentials(*add_args), add_args->kdf, add_args->append_only}, job.ctx());
    if (g.json)
      print_json(r.to_json());
    else if (!g.quiet)
      std::cout << "added key " << r.id.substr(0, 8) << "\n";
    return kExitOk;
  });

  auto* rm = key->add_subcommand("remove", "Remove a key (not the one in use, never the last one)");
  add_global_options(*rm, g);
  auto rm_id = std::make_shared<std::string>();
  rm->add_option("id", *rm_id, "Key id or unique prefix (see 'arca key list')")->required();
  set_command(*rm, [&g, rm_id] {
    auto repo = open_repository(g);
    CliJob job(g);
    auto r = ops::remove_key(*repo, *rm_id, job.ctx());
    if (g.json)
      print_json(r.to_json());
    else if (!g.quiet)
      std::cout << "removed key " << r.removed.substr(0, 8) << "\n";
    return kExitOk;
  });

  auto* passwd =
      key->add_subcommand("passwd", "Change the password of the key in use (adds the new key, then removes the old)");
  add_global_options(*passwd, g);
  auto pw_args = std::make_shared<NewKeyArgs>();
  add_new_key_options(*passwd, *pw_args, false);
  set_command(*passwd, [&g, pw_args] {
    auto repo = open_repository(g);
    CliJob job(g);
    ops::refuse_password_change(*repo);  // before asking for the new password
    auto r = ops::change_password(*repo, {new_credentials(*pw_args), pw_args->kdf, false}, job.ctx());
    if (g.json)
      print_json(r.to_json());
    else if (!g.quiet)
      std::cout << "password changed: key " << r.id.substr(0, 8) << " replaces " << r.removed.substr(0, 8) << "\n";
    return kExitOk;
  });

  auto* rotate = key->add_subcommand("rotate",
                                     "Start a new data key version for all new writes; existing data stays readable "
                                     "with its own version and is not rewritten");
  add_global_options(*rotate, g);
  set_command(*rotate, [&g] {
    auto repo = open_repository(g);
    CliJob job(g);
    uint32_t v = ops::rotate_data_key(*repo, job.ctx());
    if (g.json)
      print_json({{"data_key_version", v}});
    else if (!g.quiet)
      std::cout << "data key version " << v << " is now used for new data\n";
    return kExitOk;
  });
}

}  // namespace arca
