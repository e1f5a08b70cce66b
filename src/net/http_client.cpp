#include "net/http_client.h"

#include <curl/curl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "util/error.h"
#include "util/io.h"

namespace arca {
namespace {

std::once_flag g_curl_init;

// Owns the header list of one request.
struct SList {
  curl_slist* list = nullptr;
  ~SList() { curl_slist_free_all(list); }
  void add(const std::string& h) {
    curl_slist* n = curl_slist_append(list, h.c_str());
    if (!n) throw std::bad_alloc();
    list = n;
  }
};

struct Transfer {
  const curl_socket_t* socket;  // of the connection this transfer probably uses (see acknowledge_now)
  const HttpRequest* req;
  uint64_t sent = 0;
  HttpResponse* resp;
  std::string callback_error;  // why a callback stopped the transfer
};

constexpr size_t kMaxHeaderBytes = 64 * 1024;

size_t read_body(char* buf, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const HttpRequest& r = *t->req;
  size_t want = size * n;
  if (r.body_fd >= 0) {
    uint64_t left = r.body_length - t->sent;
    size_t k = size_t(std::min<uint64_t>(left, want));
    if (k == 0) return 0;
    try {
      size_t got =
          pread_full(r.body_fd, {reinterpret_cast<uint8_t*>(buf), k}, off_t(r.body_offset + t->sent), "upload source");
      if (got != k) throw Error(ErrorKind::Io, "upload source file shrank while being sent");
    } catch (const std::exception& e) {
      t->callback_error = e.what();
      return CURL_READFUNC_ABORT;
    }
    t->sent += k;
    return k;
  }
  size_t k = std::min<size_t>(r.body.size() - t->sent, want);
  std::memcpy(buf, r.body.data() + t->sent, k);
  t->sent += k;
  return k;
}

// curl rewinds the body itself when it must resend it (e.g. after a redirect).
int seek_body(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0) return CURL_SEEKFUNC_CANTSEEK;
  t->sent = uint64_t(offset);
  return CURL_SEEKFUNC_OK;
}

// Callbacks run inside libcurl's C code: nothing may be thrown through it. Returning a short
// count makes curl stop the transfer with CURLE_WRITE_ERROR; the reason is kept in the Transfer.
size_t write_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  Bytes& b = t->resp->body;
  size_t k = size * n;
  if (k == 0) return 0;
  try {
    if (b.size() + k > t->req->max_bytes) {
      t->callback_error = "the answer is larger than the " + std::to_string(t->req->max_bytes) + " bytes expected";
      return 0;
    }
    if (b.empty()) {  // one allocation for the whole body, not a doubling series (twice the memory)
      uint64_t len = std::strtoull(t->resp->header("content-length").c_str(), nullptr, 10);
      if (len > b.capacity()) b.reserve(size_t(std::min(len, t->req->max_bytes)));
    }
    // resize() leaves the new bytes uninitialized (Bytes' allocator) and memcpy copies at full
    // speed; insert() of a range went element by element through the allocator.
    size_t at = b.size();
    b.resize(at + k);
    std::memcpy(b.data() + at, data, k);
  } catch (const std::exception& e) {
    t->callback_error = std::string("cannot hold the answer: ") + e.what();
    return 0;
  }
  return k;
}

// Servers that write an answer's headers and its body separately with Nagle's algorithm on (Ceph
// radosgw's listings do) send the body only once the headers are acknowledged, and Linux delays
// that acknowledgement by up to 40 ms on a connection in request-response use: each listing took
// 43 ms instead of 3. Acknowledging as soon as the headers are in releases the body at once.
// libcurl names a transfer's socket only after the transfer, so the socket is the one the handle
// opened for this transfer, or kept from the previous one (a handle talks to one endpoint, over
// one connection at a time); on any other socket the option is a harmless hint or fails.
void acknowledge_now(curl_socket_t s) {
#ifdef TCP_QUICKACK
  if (s == CURL_SOCKET_BAD) return;
  int on = 1;
  setsockopt(s, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on);
#else
  (void)s;
#endif
}

int remember_socket(void* handle_socket, curl_socket_t s, curlsocktype) {
  *static_cast<curl_socket_t*>(handle_socket) = s;
  return CURL_SOCKOPT_OK;
}

size_t on_header(char* data, size_t size, size_t n, void* user) try {
  auto* t = static_cast<Transfer*>(user);
  size_t k = size * n;
  size_t total = 0;
  for (const auto& [name, value] : t->resp->headers) total += name.size() + value.size();
  if (total + k > kMaxHeaderBytes) {
    t->callback_error = "the answer's headers are too large";
    return 0;
  }
  std::string line(data, k);
  if (line.rfind("HTTP/", 0) == 0) t->resp->headers.clear();        // a new response (e.g. after 100 Continue)
  if (line == "\r\n" || line == "\n") acknowledge_now(*t->socket);  // the end of the headers
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    std::string value = line.substr(colon + 1);
    auto b = value.find_first_not_of(" \t");
    auto e = value.find_last_not_of(" \t\r\n");
    t->resp->headers[name] = b == std::string::npos ? "" : value.substr(b, e - b + 1);
  }
  return k;
} catch (const std::exception& e) {
  static_cast<Transfer*>(user)->callback_error = std::string("cannot read the answer's headers: ") + e.what();
  return 0;
}

}  // namespace

struct HttpClient::Handle {
  CURL* curl = curl_easy_init();
  curl_socket_t socket = CURL_SOCKET_BAD;  // of its kept connection, or the one it just opened
  Handle() = default;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() {
    if (curl) curl_easy_cleanup(curl);
  }
};

std::string HttpResponse::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

HttpClient::HttpClient(HttpConfig cfg)
    : cfg_(std::move(cfg)), slots_(std::ptrdiff_t(std::clamp(cfg_.max_connections, 1u, 1024u))) {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

HttpClient::~HttpClient() = default;

HttpClient::HandlePtr HttpClient::acquire() const {
  {
    std::lock_guard lk(mu_);
    if (!idle_.empty()) {
      HandlePtr h = std::move(idle_.back());
      idle_.pop_back();
      return h;
    }
  }
  auto h = std::make_unique<Handle>();
  if (!h->curl) throw Error(ErrorKind::Generic, "cannot initialize libcurl");
  return h;
}

void HttpClient::release(HandlePtr h) const {
  std::lock_guard lk(mu_);
  idle_.push_back(std::move(h));
}

HttpResponse HttpClient::perform(const HttpRequest& req) const {
  slots_.acquire();  // at most max_connections requests in flight
  struct Release {
    std::counting_semaphore<1024>& s;
    ~Release() { s.release(); }
  } release_slot{slots_};
  HandlePtr h = acquire();
  CURL* c = h->curl;
  curl_easy_reset(c);  // keeps the connection cache, forgets the previous request's options
  HttpResponse resp;
  Transfer t{&h->socket, &req, 0, &resp, {}};
  if (req.expect_bytes) resp.body.reserve(req.expect_bytes);
  SList headers;
  for (const auto& hd : req.headers) headers.add(hd);
  // No "Expect:" override: a signing hook (SigV4) would sign the empty header curl then leaves out.

  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, cfg_.connect_timeout_s);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, cfg_.stall_timeout_s);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  // Packs are MiBs: a large upload buffer means fewer send/pread calls and callbacks per object.
  curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 1024L * 1024);
  curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 256L * 1024);  // fewer, larger reads and callbacks (default 16 KiB)
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, cfg_.verify_tls ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, cfg_.verify_tls ? 2L : 0L);
  if (!cfg_.ca_bundle.empty() && curl_easy_setopt(c, CURLOPT_CAINFO, cfg_.ca_bundle.c_str()) != CURLE_OK)
    throw Error(ErrorKind::Usage, "this libcurl does not take a CA bundle (s3.ca-bundle)");
  curl_easy_setopt(c, CURLOPT_SOCKOPTFUNCTION, remember_socket);
  curl_easy_setopt(c, CURLOPT_SOCKOPTDATA, &h->socket);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);

  bool has_body = req.body_fd >= 0 || !req.body.empty() || req.method == "PUT" || req.method == "POST";
  uint64_t body_len = req.body_fd >= 0 ? req.body_length : req.body.size();
  if (req.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (has_body) {
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, curl_off_t(body_len));
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_body);
    curl_easy_setopt(c, CURLOPT_READDATA, &t);
    curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, seek_body);
    curl_easy_setopt(c, CURLOPT_SEEKDATA, &t);
    if (req.method != "PUT") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  } else if (req.method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.list);
  if (cfg_.setup_request) cfg_.setup_request(c);

  CURLcode rc = curl_easy_perform(c);
  // The connection kept for the next request (a handle's newest socket may have lost a race
  // between addresses and be closed); CURL_SOCKET_BAD if none was kept.
  if (curl_easy_getinfo(c, CURLINFO_ACTIVESOCKET, &h->socket) != CURLE_OK) h->socket = CURL_SOCKET_BAD;
  if (rc != CURLE_OK) {
    resp.transport_error = int(rc);
    resp.transport_message = !t.callback_error.empty() ? t.callback_error : errbuf[0] ? errbuf : curl_easy_strerror(rc);
    resp.status = 0;
  } else {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
  }
  curl_easy_reset(c);  // the handle must not keep pointers to this frame's buffers and lists
  release(std::move(h));
  return resp;
}

bool HttpClient::transient(int e) {
  switch (CURLcode(e)) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_SSL_CONNECT_ERROR:  // also a handshake cut short by a restarting server
      return true;
    default:
      return false;
  }
}

bool HttpClient::certificate_failure(int e) {
  switch (CURLcode(e)) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      return true;
    default:
      return false;
  }
}

bool HttpClient::handshake_failure(int e) { return CURLcode(e) == CURLE_SSL_CONNECT_ERROR; }

bool HttpClient::unreachable(int e) {
  switch (CURLcode(e)) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
      return true;
    default:
      return false;
  }
}

}  // namespace arca
