#include <iostream>

#include "cli/cli_job.h"
#include "cli/commands.h"
#include "ops/error_table.h"
#include "ops/init.h"

namespace arca {

void register_init(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("init", "Create a new, empty repository");
  add_global_options(*cmd, g);
  auto req = std::make_shared<ops::InitRequest>();
  cmd->add_option("--chunk-min", req->chunk_kib[0], "Minimum chunk size in KiB")->capture_default_str();
  cmd->add_option("--chunk-avg", req->chunk_kib[1], "Average chunk size in KiB (a power of two)")
      ->capture_default_str();
  cmd->add_option("--chunk-max", req->chunk_kib[2], "Maximum chunk size in KiB")->capture_default_str();
  cmd->add_option("--compression", req->repo.zstd_level, "zstd level 1-19, 0 = off")
      ->check(CLI::Range(0, 19))
      ->capture_default_str();
  cmd->add_option("--pack-size", req->pack_mib, "Target data pack size in MiB")
      ->check(CLI::Range(1, 512))
      ->capture_default_str();
  cmd->add_option("--kdf-memory", req->repo.kdf.memory_kib, "Argon2id memory for password keys, KiB")
      ->check(CLI::Range(64, 4 * 1024 * 1024))
      ->capture_default_str();
  cmd->add_option("--kdf-time", req->repo.kdf.time_cost, "Argon2id passes for password keys")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  cmd->add_flag("--create-bucket", req->create_bucket, "S3: create the bucket if it does not exist");
  cmd->add_flag("--object-lock", req->object_lock,
                "S3: create the bucket with Object Lock enabled (with --create-bucket)");
  auto like = std::make_shared<GlobalOptions>();
  cmd->add_option("--like", like->repo,
                  "Make a replica of this repository for 'arca copy' (docs/replication.md): it shares that "
                  "repository's keys and chunker, so blobs copied to it stay as they are");
  cmd->add_option("--like-password-file", like->password_file,
                  "Password file of the --like repository (default: the new repository's password)");
  cmd->add_option("--like-key-file", like->key_file, "Key file of the --like repository");
  cmd->add_option("--like-option", like->options, "Backend option (KEY=VALUE) of the --like repository");
  set_command(*cmd, [&g, cmd, req, like] {
    req->location = repo_location(g);
    ops::check_init(*req);  // before the store is opened and a password asked for
    if (like->repo.empty() && (!like->password_file.empty() || !like->key_file.empty() || !like->options.empty()))
      throw Error(ErrorKind::Usage, "--like-password-file, --like-key-file and --like-option need --like SOURCE");
    if (!like->repo.empty())
      for (const char* o : {"--chunk-min", "--chunk-avg", "--chunk-max", "--compression", "--pack-size"})
        if (cmd->count(o))
          throw Error(ErrorKind::Usage, std::string(o) +
                                            " with --like: a replica takes its chunker, pack size and compression "
                                            "from the repository it replicates");
    // The source is opened first: a wrong password fails before anything is created.
    Credentials creds = get_credentials(g, true, "Password for the new repository: ");
    std::unique_ptr<Repository> primary;
    if (!like->repo.empty()) {
      bool same = like->password_file.empty() && like->key_file.empty();
      try {
        primary = same ? open_repository(*like, creds) : open_repository(*like);
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::Auth || !same) throw;
        throw Error(ErrorKind::Auth, std::string(e.what()) +
                                         " (the new repository's password was tried on " + like->repo +
                                         ": give that repository's own with --like-password-file or --like-key-file)");
      }
    }
    auto backend = open_repo_backend(g, ops::init_backend_options(*req));
    CliJob job(g);
    ops::InitResult r = primary ? ops::init_like(*backend, *primary, creds, *req, job.ctx())
                                : ops::init(*backend, creds, *req, job.ctx());
    if (g.json)
      print_json(r.to_json());
    else if (!g.quiet) {
      std::cout << "created Arca repository at " << r.location << "\n";
      if (primary)
        std::cout << "It is a replica of " << primary->backend().location() << " (repository "
                  << r.replica_of.substr(0, 8) << "): fill it with 'arca copy --repo "
                  << primary->backend().location() << " --to " << r.location << "'.\n"
                  << "It opens with this password and needs nothing of the source to be restored from.\n";
      std::cout << "Keep the password (or key file) safe: without it the data cannot be read.\n";
    }
    return kExitOk;
  });
}

}  // namespace arca
