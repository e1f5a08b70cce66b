// `arca init`: create a new, empty repository.
#pragma once
#include <array>
#include <string>

#include <nlohmann/json.hpp>

#include "repo/repository.h"
#include "storage/backend.h"
#include "util/job_context.h"

namespace arca::ops {

struct InitRequest {
  std::string location;                               // where (to refuse a local directory holding other files)
  std::array<uint32_t, 3> chunk_kib{256, 512, 2048};  // min, average (a power of two), max
  uint32_t pack_mib = 16;
  InitOptions repo;  // compression and KDF settings; chunker and pack size come from the fields above
  bool create_bucket = false, object_lock = false;  // S3
};

struct InitResult {
  std::string location;
  nlohmann::json to_json() const { return {{"location", location}, {"created", true}}; }
};

// The request's refusals (Error Usage for sizes and flags, Error Refused for a local directory
// that is not empty and holds no repository), for a front end to check before it opens the
// store and asks for a password; init() checks them again.
void check_init(const InitRequest& req);
// The backend options the request needs when the store is opened (S3 bucket creation).
BackendOptions init_backend_options(const InitRequest& req);
InitResult init(Backend& backend, const Credentials& creds, const InitRequest& req, JobContext& ctx);

}  // namespace arca::ops
