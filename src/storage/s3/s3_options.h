// Everything an S3 backend needs to know, gathered from the repository URL
// (s3:http[s]://host[:port]/bucket[/prefix]), `-o s3.*=value` options, the AWS environment
// variables and the shared credentials file. Validated here, so bad settings fail before any
// request is made.
#pragma once
#include <cstdint>
#include <string>

#include "storage/backend.h"

namespace arca {

struct S3Options {
  std::string scheme;  // http or https
  std::string host;    // host[:port]
  std::string bucket;
  std::string prefix;  // "" or ending in '/'
  std::string region = "us-east-1";
  bool path_style = true;  // virtual-host style by default only for *.amazonaws.com
  std::string access_key, secret_key, session_token;
  std::string credentials_source;  // for messages: "environment", "profile 'x' in FILE"
  std::string ca_bundle;
  bool verify_tls = true;
  unsigned connections = 8;    // parallel transfers
  unsigned list_page_size = 1000;  // max-keys of each listing request (stores that cap it lower)
  unsigned max_attempts = 10;  // per request, including the first
  double retry_base_s = 0.25, retry_cap_s = 16;
  long connect_timeout_s = 10, stall_timeout_s = 60;
  uint64_t part_size = 16ull << 20, multipart_threshold = 64ull << 20;
  std::string storage_class;        // x-amz-storage-class
  std::string sse, sse_kms_key_id;  // x-amz-server-side-encryption (AES256 | aws:kms)
  std::string lock_mode;            // GOVERNANCE | COMPLIANCE (object lock on every object written)
  uint32_t lock_days = 0;
  std::string conditional_writes = "auto";  // auto | on | off (If-None-Match: * on create-if-absent)
  bool create_bucket = false;               // init: create the bucket if missing
  bool bucket_object_lock = false;          // ...with Object Lock enabled
};

// True for locations this backend handles ("s3:…").
bool is_s3_location(const std::string& location);
// Throws Error(Usage) naming the bad part; Error(Auth) if no credentials are found.
S3Options parse_s3_options(const std::string& location, const BackendOptions& opts);
// Help text for every s3.* option, for `arca help-options` and the docs.
const char* s3_options_help();

}  // namespace arca
