#include <fcntl.h>
#include <unistd.h>

#include <iostream>

#include "cli/commands.h"
#include "ops/error_table.h"
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
    auto keys = list_key_files(repo->backend());
    if (g.json) {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& k : keys)
        j.push_back({{"id", k.id},
                     {"kind", k.kind},
                     {"created", k.created},
                     {"host", k.host},
                     {"user", k.user},
                     {"role", k.role == KeyRole::AppendOnly ? "append-only" : "full"},
                     {"current", k.id == repo->key_id()}});
      print_json(j);
      return kExitOk;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& k : keys)
      rows.push_back({(k.id == repo->key_id() ? "*" : " ") + k.id.substr(0, 8), k.kind,
                      k.role == KeyRole::AppendOnly ? "append-only" : "full", short_time(k.created), k.host, k.user});
    print_table({" ID", "Kind", "Role", "Created (UTC)", "Host", "User"}, rows);
    std::cout << "* = the key used now; data key version " << repo->keys().current_version() << " is current\n";
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
    if (repo->append_only() && !add_args->append_only)
      throw Error(ErrorKind::Refused, "append-only key " + repo->key_id().substr(0, 8) +
                                          " can only add append-only keys (give --append-only), never full ones");
    std::string id = add_key_file(repo->backend(), repo->keys().master, new_credentials(*add_args), add_args->kdf,
                                  add_args->append_only ? KeyRole::AppendOnly : KeyRole::Full);
    if (g.json)
      print_json({{"id", id}});
    else if (!g.quiet)
      std::cout << "added key " << id.substr(0, 8) << "\n";
    return kExitOk;
  });

  auto* rm = key->add_subcommand("remove", "Remove a key (not the one in use, never the last one)");
  add_global_options(*rm, g);
  auto rm_id = std::make_shared<std::string>();
  rm->add_option("id", *rm_id, "Key id or unique prefix (see 'arca key list')")->required();
  set_command(*rm, [&g, rm_id] {
    auto repo = open_repository(g);
    std::string id = resolve_key_id(repo->backend(), *rm_id);
    if (id == repo->key_id())
      throw Error(ErrorKind::Refused,
                  "refusing to remove the key in use; open the repository with another key to remove it");
    if (list_key_files(repo->backend()).size() < 2) throw Error(ErrorKind::Refused, "refusing to remove the last key");
    remove_key_file(repo->backend(), id);
    if (g.json)
      print_json({{"removed", id}});
    else if (!g.quiet)
      std::cout << "removed key " << id.substr(0, 8) << "\n";
    return kExitOk;
  });

  auto* passwd =
      key->add_subcommand("passwd", "Change the password of the key in use (adds the new key, then removes the old)");
  add_global_options(*passwd, g);
  auto pw_args = std::make_shared<NewKeyArgs>();
  add_new_key_options(*passwd, *pw_args, false);
  set_command(*passwd, [&g, pw_args] {
    auto repo = open_repository(g);
    // (It adds a key and removes the old one: an append-only key could do the first half only.)
    if (repo->append_only())
      throw Error(ErrorKind::Refused,
                  "append-only key " + repo->key_id().substr(0, 8) +
                      " cannot change its password (that removes a key); ask an operator to replace it");
    std::string id = add_key_file(repo->backend(), repo->keys().master, new_credentials(*pw_args), pw_args->kdf);
    remove_key_file(repo->backend(), repo->key_id());
    if (g.json)
      print_json({{"id", id}, {"removed", repo->key_id()}});
    else if (!g.quiet)
      std::cout << "password changed: key " << id.substr(0, 8) << " replaces " << repo->key_id().substr(0, 8) << "\n";
    return kExitOk;
  });

  auto* rotate = key->add_subcommand("rotate",
                                     "Start a new data key version for all new writes; existing data stays readable "
                                     "with its own version and is not rewritten");
  add_global_options(*rotate, g);
  set_command(*rotate, [&g] {
    auto repo = open_repository(g);
    uint32_t v = repo->rotate_data_key();
    if (g.json)
      print_json({{"data_key_version", v}});
    else if (!g.quiet)
      std::cout << "data key version " << v << " is now used for new data\n";
    return kExitOk;
  });
}

}  // namespace arca
