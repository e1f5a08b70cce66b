#include "ops/init.h"

#include <filesystem>

namespace arca::ops {

namespace {

// Checked in the unit the options take (the library's own check speaks in bytes).
InitOptions init_options(const InitRequest& req) {
  auto [min_kib, avg_kib, max_kib] = req.chunk_kib;
  if (avg_kib == 0 || (avg_kib & (avg_kib - 1)) != 0)
    throw Error(ErrorKind::Usage, "--chunk-avg " + std::to_string(avg_kib) +
                                      " KiB: the average chunk size must be a power "
                                      "of two (in KiB: 1, 2, 4, … 512, 1024, …)");
  if (!(min_kib >= 1 && min_kib < avg_kib && avg_kib < max_kib))
    throw Error(ErrorKind::Usage, "chunk sizes must satisfy 1 KiB <= --chunk-min < --chunk-avg < --chunk-max (got " +
                                      std::to_string(min_kib) + ", " + std::to_string(avg_kib) + ", " +
                                      std::to_string(max_kib) + " KiB)");
  if (max_kib > 65536) throw Error(ErrorKind::Usage, "--chunk-max must be at most 65536 KiB (64 MiB)");
  InitOptions o = req.repo;
  o.chunker = {min_kib * 1024, avg_kib * 1024, max_kib * 1024};
  o.data_pack_size = req.pack_mib * 1024 * 1024;
  if (req.object_lock && !req.create_bucket)
    throw Error(ErrorKind::Usage,
                "--object-lock applies to a bucket that --create-bucket creates; Object Lock "
                "cannot be enabled on an existing bucket here");
  // A directory holding other files is not where a repository goes (a typo, or the data itself).
  const std::string& where = req.location;
  std::error_code ec;
  if (!where.empty() && where.rfind("s3:", 0) != 0 && std::filesystem::is_directory(where, ec) &&
      !std::filesystem::exists(where + "/config", ec) && !std::filesystem::is_empty(where, ec))
    throw Error(ErrorKind::Refused, "directory " + where +
                                        " is not empty and holds no Arca repository: give an empty "
                                        "or new directory");
  return o;
}

}  // namespace

void check_init(const InitRequest& req) { init_options(req); }

BackendOptions init_backend_options(const InitRequest& req) {
  BackendOptions extra;
  if (req.create_bucket) extra["s3.create-bucket"] = "true";
  if (req.object_lock) extra["s3.bucket-object-lock"] = "true";
  return extra;
}

InitResult init(Backend& backend, const Credentials& creds, const InitRequest& req, JobContext&) {
  Repository::init(backend, creds, init_options(req));
  return {backend.location(), ""};
}

InitResult init_like(Backend& backend, const Repository& primary, const Credentials& creds, const InitRequest& req,
                     JobContext&) {
  InitOptions o = init_options(req);  // the location's refusals
  Repository::init_like(backend, primary, creds, o.kdf);
  return {backend.location(), primary.config().repo_id.hex()};
}

}  // namespace arca::ops
