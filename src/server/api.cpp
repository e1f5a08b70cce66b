// The HTTP side of the API: binding (plain or TLS), routing to api_routes(), bearer tokens and
// roles, and one JSON error shape for everything that goes wrong, including what cpp-httplib
// itself rejects (oversized bodies, malformed requests).
#include "server/api.h"

#include <httplib.h>
#include <sys/socket.h>

#include <charconv>
#include <chrono>
#include <fstream>
#include <thread>

#include "ops/error_table.h"
#include "server/api_routes.h"
#include "util/error.h"

namespace arca::server {

namespace {

constexpr size_t kMaxBody = 64 * 1024;
constexpr size_t kMaxPath = 1024;      // longer paths never name a route; refused before any matching
constexpr double kTouchEvery_s = 60;   // last_used_at is written at most this often per token
constexpr size_t kThreads = 4;

struct HostPort {
  std::string host;
  int port = 0;
};

// "127.0.0.1:8670", "[::1]:8670", "0.0.0.0:0" (0: any free port).
HostPort parse_listen(const std::string& listen) {
  auto bad = [&](const std::string& why) {
    return Error(ErrorKind::Usage, "server.listen '" + listen + "': " + why + " (expected HOST:PORT, e.g. 127.0.0.1:8670)");
  };
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) throw bad("no port");
  std::string host = listen.substr(0, colon), port = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) throw bad("no host");
  int p = -1;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || p < 0 || p > 65535)
    throw bad("port '" + port + "' is not a number from 0 to 65535");
  return {host, p};
}

void check_readable(const std::string& path, const char* what) {
  std::ifstream f(path);
  if (!f)
    throw Error(ErrorKind::Usage, std::string("cannot read the TLS ") + what + " " + path + " (server.tls." + what +
                                      "): check the path and that the server's user may read it");
}

void write_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

void write_error(httplib::Response& res, ErrorKind kind, const std::string& message) {
  write_json(res, http_status_for(kind), error_body(error_kind_info(kind).name, message));
}

// The kind name of a status cpp-httplib answered by itself.
std::string http_kind(int status) {
  switch (status) {
    case 400: return "usage";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 413: return "payload_too_large";
    case 414: return "uri_too_long";
    default: return status >= 500 ? "error" : "usage";
  }
}

// The token of "Authorization: Bearer <token>" (the scheme case-insensitive); "" if none.
std::string bearer_of(const httplib::Request& req) {
  std::string h = req.get_header_value("Authorization");
  if (h.size() < 7) return "";
  for (size_t i = 0; i < 6; i++)
    if (std::tolower(static_cast<unsigned char>(h[i])) != "bearer"[i]) return "";
  if (h[6] != ' ') return "";
  size_t start = h.find_first_not_of(' ', 6);
  return start == std::string::npos ? "" : h.substr(start);
}

bool is_json(const std::string& body) { return nlohmann::json::accept(body); }

}  // namespace

struct ApiServer::Impl {
  ApiContext ctx;
  std::vector<Route> routes;
  std::vector<std::vector<std::string>> patterns;  // routes[i]'s segments
  std::unique_ptr<httplib::Server> http;
  std::thread thread;
  int port = 0;
  bool started = false;

  explicit Impl(ApiContext c) : ctx(std::move(c)), routes(api_routes()) {
    for (const auto& r : routes) patterns.push_back(path_segments(r.pattern));
  }

  void dispatch(const httplib::Request& req, httplib::Response& res) {
    try {
      route(req, res);
    } catch (const Error& e) {
      write_error(res, e.kind(), e.what());
    } catch (const std::exception& e) {
      write_error(res, ErrorKind::Generic, std::string("internal error: ") + e.what());
    }
  }

  void route(const httplib::Request& req, httplib::Response& res) {
    const std::string method = req.method == "HEAD" ? "GET" : req.method;
    std::vector<std::string> path = path_segments(req.path);
    std::vector<std::string> args;
    const Route* found = nullptr;
    std::string allow;
    for (size_t i = 0; i < routes.size(); i++) {
      std::vector<std::string> a;
      if (!match_route(patterns[i], path, a)) continue;
      allow += (allow.empty() ? "" : ", ") + routes[i].method;
      if (routes[i].method == method) found = &routes[i], args = std::move(a);
    }
    if (!found && allow.empty()) throw Error(ErrorKind::NotFound, "no such endpoint: " + req.path + " (see docs/openapi.yaml)");
    if (!found) {
      res.set_header("Allow", allow);
      write_json(res, 405, error_body("method_not_allowed", req.method + " is not allowed on " + req.path + "; use " + allow));
      return;
    }

    // The query string only: cpp-httplib also files a form-encoded body (curl -d '{}') under params.
    httplib::Params query;
    if (size_t q = req.target.find('?'); q != std::string::npos)
      httplib::detail::parse_query_text(req.target.substr(q + 1), query);
    ApiRequest call{std::move(args), std::multimap<std::string, std::string>(query.begin(), query.end()), ""};
    if (found->role) {
      std::optional<TokenRecord> token = check_token(req, res, *found->role);
      if (!token) return;
      call.who = "api:" + token->name + " (" + token->id + ")";
    }
    // These endpoints take no body; one that is there must at least be JSON (an empty object).
    if (!req.body.empty() && !is_json(req.body))
      throw Error(ErrorKind::Usage, "the request body is not JSON (these endpoints need no body; send none or {})");

    ApiResponse out = found->handler(ctx, call);
    res.status = out.status;
    res.set_content(out.body, out.content_type.c_str());
  }

  // The caller's token when it may use a route needing `need`; otherwise writes 401/403 and
  // returns nullopt. Never logs or echoes the token.
  std::optional<TokenRecord> check_token(const httplib::Request& req, httplib::Response& res, Role need) {
    std::string bearer = bearer_of(req);
    std::optional<TokenRecord> token = bearer.empty() ? std::nullopt : authenticate(ctx.catalog, bearer);
    if (!token) {
      res.set_header("WWW-Authenticate", "Bearer realm=\"arca\"");
      write_error(res, ErrorKind::Auth,
                  bearer.empty() ? "this endpoint needs a token: send 'Authorization: Bearer <token>' (create one with "
                                   "'arca server token create')"
                                 : "the bearer token is not valid (unknown, malformed or revoked)");
      return std::nullopt;
    }
    std::optional<Role> role = parse_role(token->role);
    if (!role || *role < need) {
      write_error(res, ErrorKind::Refused,
                  "token " + token->id + " has role " + token->role + "; this needs " + std::string(to_string(need)));
      return std::nullopt;
    }
    double now = ctx.now ? ctx.now() : 0;
    if (now - token->last_used_at >= kTouchEvery_s) {
      try {
        ctx.catalog.touch_token(token->id, now);
      } catch (const std::exception&) {
        // Only bookkeeping: a busy catalog must not refuse a request that is otherwise fine.
      }
    }
    return token;
  }

  void configure() {
    // cpp-httplib's default also sets SO_REUSEPORT, which lets a second server bind the same port
    // and share its connections: only SO_REUSEADDR (restart while old connections linger).
    http->set_socket_options([](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    // Headers and body go out in separate writes: with Nagle's algorithm the second waits for the
    // client's delayed ACK (40 ms on Linux) on every keep-alive request.
    http->set_tcp_nodelay(true);
    http->new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
    http->set_payload_max_length(kMaxBody);
    http->set_read_timeout(10, 0);
    http->set_write_timeout(10, 0);
    http->set_keep_alive_timeout(5);
    // cpp-httplib matches handlers with std::regex, which recurses once per character: long paths
    // are refused here, and every other request but those with a body is routed here too.
    http->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (req.path.size() > kMaxPath) {
        write_json(res, 414, error_body("uri_too_long", "the path is longer than " + std::to_string(kMaxPath) + " bytes"));
        return httplib::Server::HandlerResponse::Handled;
      }
      // A request with a body is routed after cpp-httplib has read it (within the limit). One
      // without Content-Length or Transfer-Encoding has none (plain `curl -X POST`): cpp-httplib
      // would refuse it with 400, so it is routed here.
      bool body = req.has_header("Content-Length") || req.has_header("Transfer-Encoding");
      if (body && (req.method == "POST" || req.method == "PUT" || req.method == "PATCH" || req.method == "DELETE"))
        return httplib::Server::HandlerResponse::Unhandled;
      dispatch(req, res);
      return httplib::Server::HandlerResponse::Handled;
    });
    auto handler = [this](const httplib::Request& req, httplib::Response& res) { dispatch(req, res); };
    http->Post(".*", handler);
    http->Put(".*", handler);
    http->Patch(".*", handler);
    http->Delete(".*", handler);
    http->set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
      write_error(res, ErrorKind::Generic, "internal error");
    });
    // What cpp-httplib answers by itself (400, 413, ...) gets the same JSON shape.
    http->set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
      if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
      std::string message = res.status == 413 ? "the request body is over " + std::to_string(kMaxBody / 1024) + " KiB"
                                              : "the request was refused by the HTTP layer (status " +
                                                    std::to_string(res.status) + ")";
      write_json(res, res.status, error_body(http_kind(res.status), message));
      return httplib::Server::HandlerResponse::Handled;
    }));
  }
};

ApiServer::ApiServer(ApiContext ctx, const ServerSettings& settings) : impl_(std::make_unique<Impl>(std::move(ctx))) {
  HostPort hp = parse_listen(settings.listen);
  if (settings.tls_certificate.empty() != settings.tls_key.empty())
    throw Error(ErrorKind::Usage, "server.tls needs both certificate and key: set both for HTTPS, or neither");
  if (!settings.tls_certificate.empty()) {
    check_readable(settings.tls_certificate, "certificate");
    check_readable(settings.tls_key, "key");
    auto ssl = std::make_unique<httplib::SSLServer>(settings.tls_certificate.c_str(), settings.tls_key.c_str());
    if (!ssl->is_valid())
      throw Error(ErrorKind::Usage, "cannot load the TLS certificate " + settings.tls_certificate + " with the key " +
                                        settings.tls_key + ": both must be PEM and the key must match the certificate");
    impl_->http = std::move(ssl);
  } else {
    impl_->http = std::make_unique<httplib::Server>();
  }
  impl_->configure();
  if (hp.port == 0) {
    impl_->port = impl_->http->bind_to_any_port(hp.host);
  } else {
    impl_->port = impl_->http->bind_to_port(hp.host, hp.port) ? hp.port : -1;
  }
  if (impl_->port <= 0)
    throw Error(ErrorKind::Io, "cannot listen on " + settings.listen +
                                   ": the port is in use, or the address is not one of this machine's (server.listen)");
}

ApiServer::~ApiServer() {
  // A bound but never started server still holds its socket; listening and stopping closes it.
  if (!impl_->started) start();
  stop();
}

void ApiServer::start() {
  if (impl_->started) return;
  impl_->started = true;
  impl_->thread = std::thread([this] { impl_->http->listen_after_bind(); });
  // stop() only works once the server runs: wait for it, briefly.
  for (int i = 0; i < 500 && !impl_->http->is_running(); i++) std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

void ApiServer::stop() {
  if (!impl_->thread.joinable()) return;
  impl_->http->stop();
  impl_->thread.join();
}

int ApiServer::port() const { return impl_->port; }

}  // namespace arca::server
