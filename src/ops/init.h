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
  std::string replica_of;  // init_like: the id of the repository it replicates
  nlohmann::json to_json() const {
    nlohmann::json j = {{"location", location}, {"created", true}};
    if (!replica_of.empty()) j["replica_of"] = replica_of;
    return j;
  }
};

// The request's refusals (Error Usage for sizes and flags, Error Refused for a local directory
// that is not empty and holds no repository), for a front end to check before it opens the
// store and asks for a password; init() checks them again.
void check_init(const InitRequest& req);
// The backend options the request needs when the store is opened (S3 bucket creation).
BackendOptions init_backend_options(const InitRequest& req);
InitResult init(Backend& backend, const Credentials& creds, const InitRequest& req, JobContext& ctx);
// `arca init --like`: a replica of `primary` (Repository::init_like, docs/replication.md), with a
// key file for `creds`; its chunker, pack sizes and compression are the primary's (the request's
// sizes are not used: a front end refuses them).
InitResult init_like(Backend& backend, const Repository& primary, const Credentials& creds, const InitRequest& req,
                     JobContext& ctx);

}  // namespace arca::ops
