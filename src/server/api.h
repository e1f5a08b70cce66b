// The HTTP JSON API under /api/v1 (cpp-httplib), plus /metrics and the unauthenticated
// /healthz (liveness) and /readyz (readiness). Bearer tokens are checked against the catalog's
// hashes; each endpoint needs a role (viewer < operator < admin). Errors answer with the status
// of their error kind (ops/error_table.h) and a JSON body {"error": {"kind", "message"}}.
// docs/openapi.yaml describes every endpoint.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "server/catalog.h"
#include "server/metrics.h"
#include "server/runtime.h"
#include "server/scheduler.h"

namespace arca::server {

struct ApiContext {
  Catalog& catalog;
  PlanControl& control;  // the scheduler (a fake in tests)
  Runtime& runtime;
  JobMetrics& job_metrics;
  std::function<double()> now;
  std::function<bool()> ready;        // readiness: catalog open, recovery done
  double started_at = 0;
  std::function<double()> last_tick;  // the scheduler's last pass (metrics)
};

class ApiServer {
 public:
  // Binds at once (throws Error(Usage) for a bad address, Error(Io) when the port is taken, or
  // when the certificate/key cannot be loaded); serves on its own threads after start().
  ApiServer(ApiContext ctx, const ServerSettings& settings);
  ~ApiServer();
  void start();
  void stop();
  int port() const;  // the bound port (listen "127.0.0.1:0" picks one)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Roles, each allowing what the one before allows: viewer (every GET), operator (plans' pause,
// resume and run; job cancel), admin (everything; tokens are managed with the CLI on the catalog).
enum class Role { Viewer, Operator, Admin };
std::optional<Role> parse_role(std::string_view s);  // "viewer" | "operator" | "admin"
std::string_view to_string(Role r);

// Tokens: "arca_<id>_<secret>"; the catalog stores only SHA-256 of the whole token.
struct NewToken {
  TokenRecord record;
  std::string token;  // shown once
};
// Throws Error(Usage) for an empty name or an unknown role.
NewToken create_token(Catalog& catalog, const std::string& name, const std::string& role, double now);
// The token's record if it is valid and not revoked; nullopt otherwise.
std::optional<TokenRecord> authenticate(Catalog& catalog, const std::string& bearer);

}  // namespace arca::server
