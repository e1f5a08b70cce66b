// The API's routes, apart from HTTP: each is a method, a path pattern ("{}" stands for one path
// segment, passed in `args`), the role it needs (none: liveness and readiness) and a handler.
// api.cpp does the HTTP around them (routing, tokens, errors); handlers throw arca::Error, which
// answers with the status of its kind.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/api.h"

namespace arca::server {

struct ApiRequest {
  std::vector<std::string> args;                   // the "{}" segments, in order
  std::multimap<std::string, std::string> params;  // the query, decoded
  std::string who;                                 // for the scheduler's records: "api:NAME (tok_...)"
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

struct Route {
  std::string method;   // GET | POST
  std::string pattern;  // "/api/v1/plans/{}/pause"
  std::optional<Role> role;
  std::function<ApiResponse(ApiContext&, const ApiRequest&)> handler;
};

// {"error": {"kind": KIND, "message": MESSAGE}}: KIND is error_kind_info(k).name for an
// arca::Error, else one of the HTTP layer's own ("method_not_allowed", "payload_too_large", ...).
nlohmann::json error_body(const std::string& kind, const std::string& message);

// Every route, in the order docs/openapi.yaml lists them.
std::vector<Route> api_routes();

// Splits "/a/b/c" into {"a","b","c"}; matches a pattern's segments against a path's, filling
// `args` with the "{}" ones.
std::vector<std::string> path_segments(const std::string& path);
bool match_route(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
                 std::vector<std::string>& args);

}  // namespace arca::server
