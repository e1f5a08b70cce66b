#include "storage/s3/s3_options.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <set>

#include "util/error.h"

namespace arca {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// Reads section `section` of an INI file (AWS credentials/config format); empty if absent.
std::map<std::string, std::string> ini_section(const std::string& path, const std::string& section) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  if (!in) return out;
  std::string line, current;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      current = trim(line.substr(1, line.size() - 2));
      continue;
    }
    auto eq = line.find('=');
    if (current == section && eq != std::string::npos) out[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
  }
  return out;
}

std::string home_file(const char* rel) {
  std::string home = env("HOME");
  return home.empty() ? "" : home + "/" + rel;
}

bool parse_bool(const std::string& key, const std::string& v) {
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  throw Error(ErrorKind::Usage, "option " + key + "=" + v + ": expected true or false");
}

uint64_t parse_uint(const std::string& key, const std::string& v, uint64_t lo, uint64_t hi) {
  char* end = nullptr;
  errno = 0;
  unsigned long long n = std::strtoull(v.c_str(), &end, 10);
  if (v.empty() || *end || errno || n < lo || n > hi)
    throw Error(ErrorKind::Usage, "option " + key + "=" + v + ": expected a whole number from " + std::to_string(lo) +
                                      " to " + std::to_string(hi));
  return n;
}

double parse_seconds(const std::string& key, const std::string& v) {
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end || !(d > 0) || d > 86400)
    throw Error(ErrorKind::Usage, "option " + key + "=" + v + ": expected seconds (> 0)");
  return d;
}

void parse_url(const std::string& location, S3Options& o) {
  std::string url = location.substr(3);  // after "s3:"
  auto sep = url.find("://");
  if (sep == std::string::npos)
    throw Error(ErrorKind::Usage,
                "repository location '" + location +
                    "': expected s3:https://host[:port]/bucket[/prefix] (or s3:http://… for a local test server)");
  o.scheme = url.substr(0, sep);
  if (o.scheme != "http" && o.scheme != "https")
    throw Error(ErrorKind::Usage, "repository location '" + location + "': scheme must be http or https");
  std::string rest = url.substr(sep + 3);
  auto slash = rest.find('/');
  o.host = rest.substr(0, slash);
  if (o.host.find('@') != std::string::npos)  // not echoed: the part before '@' may be a secret
    throw Error(ErrorKind::Usage,
                "the repository location contains credentials ('user:secret@'); they never go in "
                "the URL: use AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile");
  if (o.host.empty()) throw Error(ErrorKind::Usage, "repository location '" + location + "': missing host");
  std::string path = slash == std::string::npos ? "" : rest.substr(slash + 1);
  auto bslash = path.find('/');
  o.bucket = path.substr(0, bslash);
  if (o.bucket.size() < 3 || o.bucket.size() > 63 ||
      o.bucket.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") != std::string::npos)
    throw Error(ErrorKind::Usage, "repository location '" + location + "': bucket name '" + o.bucket +
                                      "' is not valid (3-63 characters: lower-case letters, digits, '.', '-')");
  o.prefix = bslash == std::string::npos ? "" : path.substr(bslash + 1);
  while (!o.prefix.empty() && o.prefix.back() == '/') o.prefix.pop_back();
  // URL paths lose "." and ".." segments on the way, listing prefixes do not: refuse them.
  for (size_t b = 0; !o.prefix.empty() && b <= o.prefix.size();) {
    size_t e = std::min(o.prefix.find('/', b), o.prefix.size());
    std::string seg = o.prefix.substr(b, e - b);
    if (seg.empty() || seg == "." || seg == ".." || seg.find_first_of("?#") != std::string::npos)
      throw Error(ErrorKind::Usage, "repository location '" + location +
                                        "': the prefix may not contain empty, '.' "
                                        "or '..' segments, '?' or '#'");
    b = e + 1;
  }
  if (!o.prefix.empty()) o.prefix += '/';
  std::string hostname = o.host.substr(0, o.host.rfind(':') == std::string::npos ? o.host.size() : o.host.rfind(':'));
  o.path_style = !(hostname.size() > 14 && hostname.ends_with(".amazonaws.com"));
}

// An explicitly chosen profile wins over the environment's keys, which win over the default profile.
void load_credentials(S3Options& o, const std::string& profile, bool explicit_profile) {
  if (!explicit_profile && !env("AWS_ACCESS_KEY_ID").empty()) {
    o.access_key = env("AWS_ACCESS_KEY_ID");
    o.secret_key = env("AWS_SECRET_ACCESS_KEY");
    o.session_token = env("AWS_SESSION_TOKEN");
    o.credentials_source = "the environment (AWS_ACCESS_KEY_ID)";
    if (o.secret_key.empty()) throw Error(ErrorKind::Auth, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    return;
  }
  std::string file = env("AWS_SHARED_CREDENTIALS_FILE");
  if (file.empty()) file = home_file(".aws/credentials");
  auto sec = ini_section(file, profile);
  if (sec.count("aws_access_key_id") && sec.count("aws_secret_access_key")) {
    o.access_key = sec["aws_access_key_id"];
    o.secret_key = sec["aws_secret_access_key"];
    o.session_token = sec.count("aws_session_token") ? sec["aws_session_token"] : "";
    o.credentials_source = "profile '" + profile + "' in " + file;
    return;
  }
  throw Error(ErrorKind::Auth, "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or put profile '" +
                                   profile + "' in " + (file.empty() ? "~/.aws/credentials" : file));
}

std::string region_from_config(const std::string& profile) {
  std::string file = env("AWS_CONFIG_FILE");
  if (file.empty()) file = home_file(".aws/config");
  auto sec = ini_section(file, profile == "default" ? "default" : "profile " + profile);
  return sec.count("region") ? sec["region"] : "";
}

}  // namespace

bool is_s3_location(const std::string& location) { return location.rfind("s3:", 0) == 0; }

S3Options parse_s3_options(const std::string& location, const BackendOptions& opts) {
  S3Options o;
  parse_url(location, o);
  bool explicit_profile = opts.count("s3.profile") != 0;
  std::string profile = explicit_profile ? opts.at("s3.profile") : env("AWS_PROFILE");
  if (profile.empty()) profile = "default";
  std::string region = env("AWS_DEFAULT_REGION");
  if (region.empty()) region = env("AWS_REGION");
  if (region.empty()) region = region_from_config(profile);
  if (!region.empty()) o.region = region;

  static const std::set<std::string> known = {"s3.region",           "s3.path-style",
                                              "s3.profile",          "s3.ca-bundle",
                                              "s3.insecure-tls",     "s3.connections",
                                              "s3.list-page-size",
                                              "s3.retries",          "s3.retry-base",
                                              "s3.connect-timeout",  "s3.stall-timeout",
                                              "s3.part-size",        "s3.multipart-threshold",
                                              "s3.storage-class",    "s3.sse",
                                              "s3.sse-kms-key-id",   "s3.object-lock-mode",
                                              "s3.object-lock-days", "s3.conditional-writes",
                                              "s3.create-bucket",    "s3.bucket-object-lock"};
  for (const auto& [k, v] : opts) {
    if (k.rfind("s3.", 0) != 0) continue;
    if (!known.count(k)) throw Error(ErrorKind::Usage, "unknown option " + k + " (see `arca help-options`)");
    if (k == "s3.region")
      o.region = v;
    else if (k == "s3.path-style")
      o.path_style = parse_bool(k, v);
    else if (k == "s3.ca-bundle")
      o.ca_bundle = v;
    else if (k == "s3.insecure-tls")
      o.verify_tls = !parse_bool(k, v);
    else if (k == "s3.connections")
      o.connections = unsigned(parse_uint(k, v, 1, 256));
    else if (k == "s3.list-page-size")
      o.list_page_size = unsigned(parse_uint(k, v, 1, 1000));
    else if (k == "s3.retries")
      o.max_attempts = unsigned(parse_uint(k, v, 0, 100)) + 1;
    else if (k == "s3.retry-base")
      o.retry_base_s = parse_seconds(k, v);
    else if (k == "s3.connect-timeout")
      o.connect_timeout_s = long(parse_uint(k, v, 1, 3600));
    else if (k == "s3.stall-timeout")
      o.stall_timeout_s = long(parse_uint(k, v, 1, 3600));
    else if (k == "s3.part-size")
      o.part_size = parse_uint(k, v, 5, 5120) << 20;
    else if (k == "s3.multipart-threshold")
      o.multipart_threshold = parse_uint(k, v, 5, 5120) << 20;
    else if (k == "s3.storage-class")
      o.storage_class = v;
    else if (k == "s3.sse") {
      if (v != "AES256" && v != "aws:kms" && v != "aws:kms:dsse")
        throw Error(ErrorKind::Usage, "option s3.sse=" + v + ": expected AES256 or aws:kms");
      o.sse = v;
    } else if (k == "s3.sse-kms-key-id")
      o.sse_kms_key_id = v;
    else if (k == "s3.object-lock-mode") {
      if (v != "GOVERNANCE" && v != "COMPLIANCE")
        throw Error(ErrorKind::Usage, "option s3.object-lock-mode=" + v + ": expected GOVERNANCE or COMPLIANCE");
      o.lock_mode = v;
    } else if (k == "s3.object-lock-days")
      o.lock_days = uint32_t(parse_uint(k, v, 1, 36500));
    else if (k == "s3.conditional-writes") {
      if (v != "auto" && v != "on" && v != "off")
        throw Error(ErrorKind::Usage, "option s3.conditional-writes=" + v + ": expected auto, on or off");
      o.conditional_writes = v;
    } else if (k == "s3.create-bucket")
      o.create_bucket = parse_bool(k, v);
    else if (k == "s3.bucket-object-lock")
      o.bucket_object_lock = parse_bool(k, v);
  }
  if (o.lock_mode.empty() != (o.lock_days == 0))
    throw Error(ErrorKind::Usage, "options s3.object-lock-mode and s3.object-lock-days go together");
  if (!o.sse_kms_key_id.empty() && o.sse.rfind("aws:kms", 0) != 0)
    throw Error(ErrorKind::Usage, "option s3.sse-kms-key-id needs s3.sse=aws:kms");
  if (o.multipart_threshold < o.part_size) o.multipart_threshold = o.part_size;
  load_credentials(o, profile, explicit_profile);
  return o;
}

const char* s3_options_help() {
  return R"(S3 options (-o KEY=VALUE, repeatable; repository s3:https://host[:port]/bucket[/prefix]):
  s3.region=R               signing region (default: $AWS_DEFAULT_REGION, $AWS_REGION, ~/.aws/config, us-east-1)
  s3.path-style=BOOL        path-style URLs (default true, except for *.amazonaws.com)
  s3.profile=NAME           profile in the shared credentials file (default: $AWS_PROFILE or "default";
                            credentials otherwise from $AWS_ACCESS_KEY_ID/$AWS_SECRET_ACCESS_KEY/$AWS_SESSION_TOKEN)
  s3.ca-bundle=FILE         CA certificates for TLS (default: the system's)
  s3.insecure-tls=BOOL      do not verify the server's certificate (testing only)
  s3.connections=N          parallel transfers (default 8)
  s3.list-page-size=N       keys per listing request, 1-1000 (default 1000; for stores that allow fewer)
  s3.retries=N              retries per request on network errors, 5xx, 429/SlowDown (default 9)
  s3.retry-base=SECONDS     first backoff delay, doubled per retry up to 16 s, with jitter (default 0.25)
  s3.connect-timeout=S      connection timeout in seconds (default 10)
  s3.stall-timeout=S        abort and retry a transfer that moves no byte for S seconds (default 60)
  s3.part-size=MIB          multipart part size (default 16)
  s3.multipart-threshold=MIB  objects at least this large use multipart upload (default 64)
  s3.storage-class=CLASS    x-amz-storage-class for every object written (e.g. STANDARD_IA)
  s3.sse=AES256|aws:kms     server-side encryption, in addition to Arca's own
  s3.sse-kms-key-id=ID      KMS key for s3.sse=aws:kms
  s3.object-lock-mode=M     GOVERNANCE or COMPLIANCE object lock on every object written...
  s3.object-lock-days=N     ...retained for N days (bucket needs Object Lock enabled)
  s3.conditional-writes=auto|on|off  If-None-Match: * for create-if-absent (auto: fall back to
                            check-then-write when the store does not support it)
  s3.create-bucket=BOOL     init: create the bucket if it does not exist (also: arca init --create-bucket)
  s3.bucket-object-lock=BOOL  init: create the bucket with Object Lock enabled
)";
}

}  // namespace arca
