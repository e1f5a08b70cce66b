#include "storage/s3/s3_backend.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <random>
#include <thread>

#include "crypto/random.h"
#include "storage/s3/s3_wire.h"
#include "storage/s3/sigv4.h"
#include "storage/s3/xml.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/io.h"

namespace arca {
namespace {

const char* kTlsHint =
    "give the server's CA with -o s3.ca-bundle=FILE (or, for tests only, -o s3.insecure-tls=true), and check that "
    "the endpoint speaks TLS (otherwise use s3:http://)";

std::string iso8601_at(std::time_t t) {
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string iso8601_after_days(uint32_t days) { return iso8601_at(std::time(nullptr) + std::time_t(days) * 86400); }

}  // namespace

S3Backend::S3Backend(S3Options opts)
    : opts_(std::move(opts)),
      http_(HttpConfig{.max_connections = opts_.connections,
                       .setup_request = sigv4_signer(opts_),
                       .ca_bundle = opts_.ca_bundle,
                       .verify_tls = opts_.verify_tls,
                       .connect_timeout_s = opts_.connect_timeout_s,
                       .stall_timeout_s = opts_.stall_timeout_s}) {
  if (opts_.conditional_writes == "on") conditional_ = 1;
  if (opts_.conditional_writes == "off") conditional_ = -1;
}

S3Backend::~S3Backend() {
  if (!staging_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(staging_, ec);  // only this process's leftovers of a failed run
  }
}

std::string S3Backend::location() const {
  return "s3:" + opts_.scheme + "://" + opts_.host + "/" + opts_.bucket +
         (opts_.prefix.empty() ? "" : "/" + opts_.prefix.substr(0, opts_.prefix.size() - 1));
}

std::string S3Backend::url(const std::string& key, const std::map<std::string, std::string>& query) const {
  std::string u = opts_.scheme + "://";
  if (opts_.path_style)
    u += opts_.host + "/" + opts_.bucket + "/";
  else
    u += opts_.bucket + "." + opts_.host + "/";
  u += uri_encode(key, true);
  if (!query.empty()) u += "?" + canonical_query(query);
  return u;
}

std::vector<std::string> S3Backend::base_headers(const std::string& payload_sha256) const {
  std::vector<std::string> h{"x-amz-content-sha256: " + payload_sha256};
  if (!opts_.session_token.empty()) h.push_back("x-amz-security-token: " + opts_.session_token);
  return h;
}

std::vector<std::string> S3Backend::object_headers() const {
  std::vector<std::string> h{"Content-Type: application/octet-stream"};
  if (!opts_.storage_class.empty()) h.push_back("x-amz-storage-class: " + opts_.storage_class);
  if (!opts_.sse.empty()) h.push_back("x-amz-server-side-encryption: " + opts_.sse);
  if (!opts_.sse_kms_key_id.empty())
    h.push_back("x-amz-server-side-encryption-aws-kms-key-id: " + opts_.sse_kms_key_id);
  if (!opts_.lock_mode.empty()) {
    h.push_back("x-amz-object-lock-mode: " + opts_.lock_mode);
    h.push_back("x-amz-object-lock-retain-until-date: " + iso8601_after_days(opts_.lock_days));
  }
  return h;
}

S3Backend::Sent S3Backend::send(HttpRequest req, const std::string& what) const {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  auto start = std::chrono::steady_clock::now();
  Sent out;
  for (unsigned attempt = 1;; attempt++) {
    out.resp = http_.perform(req);
    const HttpResponse& r = out.resp;
    std::string reason;
    bool network = false, unreachable = false;
    if (r.transport_error) {
      if (HttpClient::certificate_failure(r.transport_error))
        throw Error(ErrorKind::Io,
                    what + ": TLS failure talking to " + opts_.host + ": " + r.transport_message + ". " + kTlsHint);
      if (!HttpClient::transient(r.transport_error)) throw Error(ErrorKind::Io, what + ": " + r.transport_message);
      reason = r.transport_message;
      if (HttpClient::handshake_failure(r.transport_error)) reason += std::string(" (") + kTlsHint + ")";
      out.ambiguous = true;
      network = true;
      unreachable = HttpClient::unreachable(r.transport_error);
    } else if ((r.status >= 500 && r.status != 501) || r.status == 429 ||
               (r.status == 400 && error_code(r) == "RequestTimeout") ||
               (r.status == 409 && error_code(r) == "ConditionalRequestConflict") ||
               (is_2xx(r.status) && req.method == "POST" && !xml::elements(body_text(r), "Error").empty())) {
      // (A POST that completes a multipart upload can fail after its 200 header: the error is in the body.)
      std::string code = error_code(r);
      reason = "HTTP " + std::to_string(r.status) + (code.empty() ? "" : " " + code);
      if (r.status >= 500 || is_2xx(r.status)) out.ambiguous = true;
    } else if (req.method != "HEAD" && !r.header("content-length").empty() &&
               std::strtoull(r.header("content-length").c_str(), nullptr, 10) != r.body.size()) {
      reason =
          "truncated response body (" + std::to_string(r.body.size()) + " of " + r.header("content-length") + " bytes)";
      network = true;
    } else {
      return out;
    }
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // Like an unreachable PostgreSQL, Redis or Kafka: its own kind and exit code (10).
    if (attempt >= opts_.max_attempts && unreachable)
      throw Error(ErrorKind::Unreachable,
                  what + ": cannot reach the S3 endpoint " + opts_.scheme + "://" + opts_.host + " (gave up after " +
                      std::to_string(attempt) + " attempt" + (attempt == 1 ? "" : "s") + " in " +
                      std::to_string(int(elapsed + 0.5)) + " s; last error: " + reason +
                      "). Check that the server is up, that the host name resolves and the port is right, and that "
                      "no firewall or proxy is in the way; raise -o s3.retries=N to wait longer");
    if (attempt >= opts_.max_attempts)
      throw Error(ErrorKind::Io,
                  what + ": gave up after " + std::to_string(attempt) + " attempt" + (attempt == 1 ? "" : "s") +
                      " in " + std::to_string(int(elapsed + 0.5)) + " s; last error: " + reason + " (endpoint " +
                      opts_.scheme + "://" + opts_.host + "). " +
                      (network ? "Check that the server is up and reachable" : "The server kept failing") +
                      "; raise -o s3.retries=N to wait longer");
    retries_++;
    double cap = std::min(opts_.retry_cap_s, opts_.retry_base_s * double(1ull << std::min(attempt - 1, 20u)));
    double delay = std::uniform_real_distribution<double>(cap / 2, cap)(rng);  // jitter: clients do not retry in step
    std::this_thread::sleep_for(std::chrono::duration<double>(delay));
  }
}

HttpResponse S3Backend::error_body_for(const HttpResponse& head, const std::string& key,
                                       const std::string& what) const {
  if (!head.body.empty()) return head;
  // A HEAD answer has no body, so no error code: ask again with a GET to learn why it failed.
  HttpRequest req{.method = "GET", .url = url(key), .headers = base_headers(kEmptySha256), .max_bytes = 1 << 20};
  req.headers.push_back("Range: bytes=0-0");
  auto s = send(req, what);
  return is_2xx(s.resp.status) ? head : s.resp;
}

bool S3Backend::exists() const {
  // A listing under the prefix, not HeadBucket: credentials limited to the repository's prefix
  // may list there without any right on the bucket as a whole.
  std::string what = "checking bucket " + opts_.bucket;
  HttpRequest req{.method = "GET",
                  .url = url("", {{"list-type", "2"}, {"max-keys", "1"}, {"prefix", opts_.prefix}}),
                  .headers = base_headers(kEmptySha256),
                  .max_bytes = 1 << 20};
  auto s = send(req, what);
  if (is_2xx(s.resp.status)) return true;
  if (s.resp.status == 404 && error_code(s.resp) == "NoSuchBucket") return false;
  fail(s.resp, what);
}

void S3Backend::create() {
  if (exists()) {
    if (!opts_.bucket_object_lock) return;
    // Asked for Object Lock on a bucket that is already there: only fine if it has it.
    if (bucket_has_object_lock()) return;
    throw Error(ErrorKind::Usage, "bucket '" + opts_.bucket +
                                      "' exists without Object Lock, which cannot be "
                                      "enabled here: use a new bucket, or enable it with the store's own tools");
  }
  if (!opts_.create_bucket)
    throw Error(ErrorKind::NotFound, "bucket '" + opts_.bucket + "' does not exist at " + opts_.host +
                                         ": create it, or pass --create-bucket to `arca init`");
  std::string body;
  if (opts_.region != "us-east-1")
    body = "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>" +
           xml::escape(opts_.region) + "</LocationConstraint></CreateBucketConfiguration>";
  HttpRequest req{.method = "PUT", .url = url(""), .headers = base_headers(digest_of(as_view(body), false).sha256_hex)};
  req.body = as_view(body);
  if (opts_.bucket_object_lock) req.headers.push_back("x-amz-bucket-object-lock-enabled: true");
  auto s = send(req, "creating bucket " + opts_.bucket);
  if (is_2xx(s.resp.status)) return;
  std::string code = error_code(s.resp);
  if (code == "BucketAlreadyOwnedByYou") return;
  fail(s.resp, "creating bucket " + opts_.bucket);
}

bool S3Backend::put_body(const std::string& name, const Body& body, bool if_absent) {
  std::string key = opts_.prefix + name;
  std::string what = "uploading " + key;
  if (if_absent && opts_.conditional_writes == "auto") std::call_once(probe_once_, [&] { probe_conditional_writes(); });
  bool conditional = if_absent && conditional_.load() >= 0;
  if (if_absent && !conditional && stat(name)) return false;  // fallback: see docs/storage-s3.md
  HttpRequest req{.method = "PUT", .url = url(key), .headers = base_headers(body.digests.sha256_hex)};
  auto oh = object_headers();
  req.headers.insert(req.headers.end(), oh.begin(), oh.end());
  if (!body.digests.md5_b64.empty()) req.headers.push_back("Content-MD5: " + body.digests.md5_b64);
  if (conditional) req.headers.push_back("If-None-Match: *");
  body.attach(req);
  auto s = send(req, what);
  long st = s.resp.status;
  if (is_2xx(st)) return true;
  if (conditional && st == 412) {
    // Someone else's object — or ours, if an earlier attempt succeeded but its answer was lost.
    return s.ambiguous && same_content(name, body);
  }
  fail(s.resp, what);
}

// Some stores refuse If-None-Match on PUT (Swift: 501), others accept and ignore it (Ceph in
// versioned buckets, so in every Object Lock bucket): only writing one name twice tells.
void S3Backend::probe_conditional_writes() {
  std::string key = opts_.prefix + "tmp/probe-" + random_id().hex();
  std::string what = "probing conditional writes with " + key;
  auto put_once = [&] {
    HttpRequest req{
        .method = "PUT", .url = url(key), .headers = base_headers(digest_of(as_view("probe"), false).sha256_hex)};
    req.headers.push_back("If-None-Match: *");
    req.body = as_view("probe");
    return send(req, what);
  };
  auto first = put_once();
  if (!is_2xx(first.resp.status)) {
    if (first.resp.status == 501 || error_code(first.resp) == "NotImplemented") conditional_ = -1;
    return;  // anything else: the real write will meet it and report it
  }
  auto second = put_once();
  conditional_ = second.resp.status == 412 ? 1 : -1;
  HttpRequest del{.method = "DELETE", .url = url(key), .headers = base_headers(kEmptySha256)};
  send(del, what);
}

bool S3Backend::same_content(const std::string& name, const Body& body) const {
  Bytes have = get(name);
  if (have.size() != body.size()) return false;
  if (body.fd < 0) return std::equal(have.begin(), have.end(), body.data.begin());
  return digest_of(have, false).sha256_hex == body.digests.sha256_hex;
}

void S3Backend::put(const std::string& name, ByteView data) {
  put_body(name, Body{.data = data, .digests = digest_of(data, !opts_.lock_mode.empty())}, false);
}

bool S3Backend::put_if_absent(const std::string& name, ByteView data) {
  return put_body(name, Body{.data = data, .digests = digest_of(data, !opts_.lock_mode.empty())}, true);
}

bool S3Backend::atomic_put_if_absent() {
  if (opts_.conditional_writes == "auto") std::call_once(probe_once_, [&] { probe_conditional_writes(); });
  return conditional_.load() > 0;
}

void S3Backend::put_file(const std::string& name, const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_errno("open", path, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) throw_errno("stat", path, errno);
  uint64_t size = uint64_t(st.st_size);
  if (size >= opts_.multipart_threshold) {
    put_multipart(name, fd.get(), size);
  } else {
    Body b{.fd = fd.get(),
           .offset = 0,
           .length = size,
           .digests = digest_file(fd.get(), 0, size, !opts_.lock_mode.empty(), path)};
    put_body(name, b, false);
  }
  ::unlink(path.c_str());
}

Bytes S3Backend::get(const std::string& name) const {
  std::string key = opts_.prefix + name;
  HttpRequest req{.method = "GET", .url = url(key), .headers = base_headers(kEmptySha256)};
  auto s = send(req, "downloading " + key);
  if (is_2xx(s.resp.status)) return std::move(s.resp.body);
  std::string code = error_code(s.resp);
  if (s.resp.status == 404 && code != "NoSuchBucket")
    throw Error(ErrorKind::NotFound, "object " + name + " is missing from the repository");
  fail(s.resp, "downloading " + key);
}

Bytes S3Backend::get_range_upto(const std::string& name, uint64_t offset, uint64_t length) const {
  if (length == 0) return {};
  std::string key = opts_.prefix + name;
  std::string what = "downloading " + key + " bytes " + std::to_string(offset) + "+" + std::to_string(length);
  HttpRequest req{.method = "GET", .url = url(key), .headers = base_headers(kEmptySha256), .expect_bytes = length};
  req.headers.push_back("Range: bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1));
  auto s = send(req, what);
  Bytes& b = s.resp.body;
  if (s.resp.status == 206) {
    // A proxy or store answering another range than asked must not pass for the blob's bytes.
    std::string range = s.resp.header("content-range");  // "bytes FIRST-LAST/TOTAL"
    size_t digits = range.find_first_of("0123456789");
    if (!range.empty() && (digits == std::string::npos || std::strtoull(range.c_str() + digits, nullptr, 10) != offset))
      throw Error(ErrorKind::Io, what + ": the server answered another range (" + range + ")");
    if (b.size() > length) throw Error(ErrorKind::Io, what + ": the server sent more than the range asked for");
    return std::move(b);
  }
  if (s.resp.status == 416) return {};  // starts beyond the end
  if (s.resp.status == 200) {           // range ignored: the whole object came
    if (b.size() <= offset) return {};
    return Bytes(b.begin() + long(offset), b.begin() + long(std::min<uint64_t>(b.size(), offset + length)));
  }
  if (s.resp.status == 404 && error_code(s.resp) != "NoSuchBucket")
    throw Error(ErrorKind::NotFound, "object " + name + " is missing from the repository");
  fail(s.resp, what);
}

std::optional<ObjectInfo> S3Backend::stat(const std::string& name) const {
  std::string key = opts_.prefix + name;
  HttpRequest req{.method = "HEAD", .url = url(key), .headers = base_headers(kEmptySha256)};
  auto s = send(req, "checking " + key);
  if (s.resp.status == 404) return std::nullopt;
  if (!is_2xx(s.resp.status)) fail(error_body_for(s.resp, key, "checking " + key), "checking " + key);
  return ObjectInfo{name, std::strtoull(s.resp.header("content-length").c_str(), nullptr, 10)};
}

void S3Backend::list(const std::string& prefix, const std::function<void(const ObjectInfo&)>& fn) const {
  std::string full = opts_.prefix + prefix;
  std::string token;
  std::string what = "listing " + full;
  for (;;) {
    std::map<std::string, std::string> q{{"list-type", "2"}, {"max-keys", std::to_string(opts_.list_page_size)}, {"prefix", full}};
    if (!token.empty()) q["continuation-token"] = token;
    HttpRequest req{.method = "GET", .url = url("", q), .headers = base_headers(kEmptySha256)};
    auto s = send(req, what);
    if (!is_2xx(s.resp.status)) fail(s.resp, what);
    std::string body = body_text(s.resp);
    for (std::string_view c : xml::elements(body, "Contents")) {
      std::string key = xml::text(c, "Key");
      if (key.size() <= opts_.prefix.size() || key.compare(0, opts_.prefix.size(), opts_.prefix) != 0) continue;
      fn(ObjectInfo{key.substr(opts_.prefix.size()), std::strtoull(xml::text(c, "Size").c_str(), nullptr, 10)});
    }
    if (xml::text(body, "IsTruncated") != "true") break;
    std::string next = xml::text(body, "NextContinuationToken");
    if (next.empty() || next == token)
      throw Error(ErrorKind::Io, what + ": the server's listing is truncated but gives no continuation token");
    token = next;
  }
}

void S3Backend::remove(const std::string& name) {
  std::string key = opts_.prefix + name;
  HttpRequest req{.method = "DELETE", .url = url(key), .headers = base_headers(kEmptySha256)};
  auto s = send(req, "deleting " + key);
  if (is_2xx(s.resp.status) || s.resp.status == 404) return;
  fail(s.resp, "deleting " + key);
}

// Staging directories are locked (flock) by the process using them. A process killed before its
// destructor ran leaves its directory unlocked; the next one removes it.
static void remove_abandoned_staging(const std::string& base) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(base, ec)) {
    if (e.path().filename().string().rfind("arca-staging-", 0) != 0) continue;
    UniqueFd fd(::open(e.path().c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (fd && ::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) std::filesystem::remove_all(e.path(), ec);
  }
}

std::string S3Backend::staging_dir() {
  std::lock_guard lk(staging_mu_);
  if (staging_.empty()) {
    const char* base = std::getenv("ARCA_STAGING_DIR");
    if (!base || !*base) base = std::getenv("TMPDIR");
    if (!base || !*base) base = "/var/tmp";
    remove_abandoned_staging(base);
    std::string tmpl = std::string(base) + "/arca-staging-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back(0);
    if (!::mkdtemp(buf.data())) throw_errno("create staging directory in", base, errno);
    staging_lock_ = UniqueFd(::open(buf.data(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!staging_lock_ || ::flock(staging_lock_.get(), LOCK_EX | LOCK_NB) != 0)
      throw_errno("lock staging directory", buf.data(), errno);
    staging_ = buf.data();
  }
  return staging_;
}

bool S3Backend::bucket_has_object_lock() const {
  std::call_once(lock_probe_once_, [&] {
    HttpRequest req{.method = "GET",
                    .url = url("", {{"object-lock", ""}}),
                    .headers = base_headers(kEmptySha256),
                    .max_bytes = 1 << 20};
    auto s = send(req, "checking Object Lock on bucket " + opts_.bucket);
    bucket_object_lock_ = is_2xx(s.resp.status) && xml::text(body_text(s.resp), "ObjectLockEnabled") == "Enabled";
  });
  return bucket_object_lock_;
}

// PutObjectRetention / PutObjectLegalHold on the current version. Both need Content-MD5.
void S3Backend::lock_object(const std::string& name, const StoreLock& lock) {
  std::string key = opts_.prefix + name;
  // Asked first: a store that does not know the ?retention subresource may take the PUT for an
  // ordinary upload and replace the object with the request body.
  if (!bucket_has_object_lock())
    throw Error(ErrorKind::Usage,
                "cannot lock " + key + ": bucket '" + opts_.bucket +
                    "' has no Object Lock; create "
                    "repositories that need store-enforced locks in a bucket made with --create-bucket --object-lock");
  const char* ns = "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"";
  std::string body, sub;
  if (lock.mode == StoreLock::Mode::LegalHold) {
    sub = "legal-hold";
    body = std::string("<LegalHold ") + ns + "><Status>ON</Status></LegalHold>";
  } else {
    sub = "retention";
    body = std::string("<Retention ") + ns + "><Mode>" +
           (lock.mode == StoreLock::Mode::Compliance ? "COMPLIANCE" : "GOVERNANCE") + "</Mode><RetainUntilDate>" +
           iso8601_at(std::time_t(lock.until_unix)) + "</RetainUntilDate></Retention>";
  }
  std::string what = "setting Object Lock " + sub + " on " + key;
  Digests d = digest_of(as_view(body), true);
  HttpRequest req{.method = "PUT", .url = url(key, {{sub, ""}}), .headers = base_headers(d.sha256_hex)};
  req.headers.push_back("Content-MD5: " + d.md5_b64);
  req.headers.push_back("Content-Type: application/xml");
  req.body = as_view(body);
  auto s = send(req, what);
  if (is_2xx(s.resp.status)) return;
  std::string code = error_code(s.resp);
  if (s.resp.status == 400 && (code == "InvalidRequest" || code == "ObjectLockConfigurationNotFoundError"))
    throw Error(ErrorKind::Usage, what + ": bucket '" + opts_.bucket + "' has no Object Lock (" + code +
                                      "); create repositories that need store-enforced locks in a bucket made with "
                                      "--create-bucket --object-lock");
  if (s.resp.status == 404 && code != "NoSuchBucket")
    throw Error(ErrorKind::NotFound, "object " + name + " is missing from the repository");
  fail(s.resp, what);
}

}  // namespace arca
