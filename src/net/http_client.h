// A generic HTTP client over libcurl (the S3 backend today; webhooks and the Kubernetes source
// later): one exchange at a time per calling thread, reusing connections through a pool of easy
// handles. It knows no protocol on top of HTTP: request signing (S3's SigV4, in storage/s3) is
// added by the caller's per-request setup hook. It reports transport failures instead of
// throwing, so that the caller decides what to retry.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <semaphore>
#include <string>
#include <vector>

#include "util/bytes.h"

namespace arca {

struct HttpConfig {
  unsigned max_connections = 8;  // requests in flight at once, whatever the callers' threads
  // Called with each request's curl easy handle (a CURL*) after the client's own options: for
  // authentication schemes the client does not know (storage/s3 sets libcurl's SigV4 here).
  std::function<void(void* curl)> setup_request;
  std::string ca_bundle;  // empty: the system's CA store
  bool verify_tls = true;
  long connect_timeout_s = 10;
  long stall_timeout_s = 60;  // abort a transfer that moves no byte for this long
};

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, PUT, POST, DELETE
  std::string url;
  std::vector<std::string> headers{};  // "Name: value"
  // Body: memory, or a range of an open file (so large objects never sit in memory).
  ByteView body{};
  int body_fd = -1;
  uint64_t body_offset = 0, body_length = 0;
  // Expected response body size if known (reserve once); 0 = unknown.
  uint64_t expect_bytes = 0;
  // A longer body is a transport error: a hostile or broken server cannot exhaust memory.
  uint64_t max_bytes = uint64_t(1) << 30;
};

struct HttpResponse {
  long status = 0;                             // 0 when the transport failed
  int transport_error = 0;                     // CURLcode; 0 = none
  std::string transport_message;               // curl's description
  std::map<std::string, std::string> headers;  // lower-case names
  Bytes body;
  std::string header(const std::string& lower_name) const;
};

class HttpClient {
 public:
  explicit HttpClient(HttpConfig cfg);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResponse perform(const HttpRequest& req) const;

  // Transport failures that a retry can cure (connection refused/reset, timeouts, truncation).
  static bool transient(int transport_error);
  // A certificate that cannot be verified (never cured by retrying).
  static bool certificate_failure(int transport_error);
  // A TLS handshake that failed: a restarting server, or one that does not speak TLS.
  static bool handshake_failure(int transport_error);
  // The server could not be reached or did not answer: name resolution failed, the connection
  // was refused, or the exchange timed out.
  static bool unreachable(int transport_error);

 private:
  struct Handle;  // a curl easy handle and what it keeps between requests
  using HandlePtr = std::unique_ptr<Handle>;
  HandlePtr acquire() const;
  void release(HandlePtr h) const;

  HttpConfig cfg_;
  mutable std::counting_semaphore<1024> slots_;
  mutable std::mutex mu_;
  mutable std::vector<HandlePtr> idle_;
};

}  // namespace arca
