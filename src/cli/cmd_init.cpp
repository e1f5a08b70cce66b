#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "ops/error_table.h"
#include "repo/repository.h"
#include "storage/backend.h"
#include "util/error.h"

namespace arca {

void register_init(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("init", "Create a new, empty repository");
  add_global_options(*cmd, g);
  auto opts = std::make_shared<InitOptions>();
  auto kib = std::make_shared<std::array<uint32_t, 3>>(std::array<uint32_t, 3>{256, 512, 2048});
  auto pack_mib = std::make_shared<uint32_t>(16);
  cmd->add_option("--chunk-min", (*kib)[0], "Minimum chunk size in KiB")->capture_default_str();
  cmd->add_option("--chunk-avg", (*kib)[1], "Average chunk size in KiB (a power of two)")->capture_default_str();
  cmd->add_option("--chunk-max", (*kib)[2], "Maximum chunk size in KiB")->capture_default_str();
  cmd->add_option("--compression", opts->zstd_level, "zstd level 1-19, 0 = off")
      ->check(CLI::Range(0, 19))
      ->capture_default_str();
  cmd->add_option("--pack-size", *pack_mib, "Target data pack size in MiB")
      ->check(CLI::Range(1, 512))
      ->capture_default_str();
  cmd->add_option("--kdf-memory", opts->kdf.memory_kib, "Argon2id memory for password keys, KiB")
      ->check(CLI::Range(64, 4 * 1024 * 1024))
      ->capture_default_str();
  cmd->add_option("--kdf-time", opts->kdf.time_cost, "Argon2id passes for password keys")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  auto create_bucket = std::make_shared<bool>(false);
  auto object_lock = std::make_shared<bool>(false);
  cmd->add_flag("--create-bucket", *create_bucket, "S3: create the bucket if it does not exist");
  cmd->add_flag("--object-lock", *object_lock, "S3: create the bucket with Object Lock enabled (with --create-bucket)");
  set_command(*cmd, [&g, opts, kib, pack_mib, create_bucket, object_lock] {
    // Checked here in the unit the options take (the library's own check speaks in bytes).
    auto [min_kib, avg_kib, max_kib] = *kib;
    if (avg_kib == 0 || (avg_kib & (avg_kib - 1)) != 0)
      throw Error(ErrorKind::Usage, "--chunk-avg " + std::to_string(avg_kib) +
                                        " KiB: the average chunk size must be a power "
                                        "of two (in KiB: 1, 2, 4, … 512, 1024, …)");
    if (!(min_kib >= 1 && min_kib < avg_kib && avg_kib < max_kib))
      throw Error(ErrorKind::Usage, "chunk sizes must satisfy 1 KiB <= --chunk-min < --chunk-avg < --chunk-max (got " +
                                        std::to_string(min_kib) + ", " + std::to_string(avg_kib) + ", " +
                                        std::to_string(max_kib) + " KiB)");
    if (max_kib > 65536) throw Error(ErrorKind::Usage, "--chunk-max must be at most 65536 KiB (64 MiB)");
    opts->chunker = {min_kib * 1024, avg_kib * 1024, max_kib * 1024};
    opts->data_pack_size = *pack_mib * 1024 * 1024;
    if (*object_lock && !*create_bucket)
      throw Error(ErrorKind::Usage,
                  "--object-lock applies to a bucket that --create-bucket creates; Object Lock "
                  "cannot be enabled on an existing bucket here");
    BackendOptions extra;
    if (*create_bucket) extra["s3.create-bucket"] = "true";
    if (*object_lock) extra["s3.bucket-object-lock"] = "true";
    std::string where = repo_location(g);
    // A directory holding other files is not where a repository goes (a typo, or the data itself).
    std::error_code ec;
    if (where.rfind("s3:", 0) != 0 && std::filesystem::is_directory(where, ec) &&
        !std::filesystem::exists(where + "/config", ec) && !std::filesystem::is_empty(where, ec))
      throw Error(ErrorKind::Refused, "directory " + where +
                                          " is not empty and holds no Arca repository: give an empty "
                                          "or new directory");
    auto backend = open_repo_backend(g, extra);
    Credentials creds = get_credentials(g, true, "Password for the new repository: ");
    Repository::init(*backend, creds, *opts);
    if (g.json)
      print_json({{"location", backend->location()}, {"created", true}});
    else if (!g.quiet)
      std::cout << "created Arca repository at " << backend->location() << "\n"
                << "Keep the password (or key file) safe: without it the data cannot be read.\n";
    return kExitOk;
  });
}

}  // namespace arca
