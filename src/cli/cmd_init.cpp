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
  set_command(*cmd, [&g, req] {
    req->location = repo_location(g);
    ops::check_init(*req);  // before the store is opened and a password asked for
    auto backend = open_repo_backend(g, ops::init_backend_options(*req));
    Credentials creds = get_credentials(g, true, "Password for the new repository: ");
    CliJob job(g);
    ops::InitResult r = ops::init(*backend, creds, *req, job.ctx());
    if (g.json)
      print_json(r.to_json());
    else if (!g.quiet)
      std::cout << "created Arca repository at " << r.location << "\n"
                << "Keep the password (or key file) safe: without it the data cannot be read.\n";
    return kExitOk;
  });
}

}  // namespace arca
