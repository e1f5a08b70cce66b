#include "server/api_routes.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "server/api_json.h"
#include "config/values.h"
#include "server/metrics.h"
#include "server/status.h"
#include "util/clock.h"
#include "util/error.h"

namespace arca::server {

namespace {

constexpr int kMaxLimit = 1000;

// The query of one request: only the parameters a route names, each at most once, so that a
// misspelt filter (?stat=FAILED) is an error instead of a silently unfiltered list.
class Query {
 public:
  Query(const std::multimap<std::string, std::string>& params, std::set<std::string> allowed) : params_(params) {
    for (const auto& [k, v] : params) {
      if (!allowed.count(k)) {
        std::string names;
        for (const auto& a : allowed) names += (names.empty() ? "" : ", ") + a;
        throw Error(ErrorKind::Usage, "unknown query parameter '" + k + "'" +
                                          (names.empty() ? ": this endpoint takes none" : "; this endpoint takes " + names));
      }
      if (params.count(k) > 1) throw Error(ErrorKind::Usage, "query parameter '" + k + "' is given more than once");
    }
  }

  std::string str(const std::string& name) const {
    auto it = params_.find(name);
    return it == params_.end() ? "" : it->second;
  }

  int64_t integer(const std::string& name, int64_t def, int64_t min, int64_t max) const {
    auto it = params_.find(name);
    if (it == params_.end()) return def;
    const std::string& v = it->second;
    int64_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n < min || n > max)
      throw Error(ErrorKind::Usage, "query parameter '" + name + "': '" + v + "' is not a whole number from " +
                                        std::to_string(min) + " to " + std::to_string(max));
    return n;
  }

  // Unix seconds ("1767225600", "1767225600.5") or RFC 3339 ("2026-01-01T00:00:00Z").
  double time(const std::string& name) const {
    auto it = params_.find(name);
    if (it == params_.end()) return 0;
    const std::string& v = it->second;
    double t = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), t);
    if (!v.empty() && ec == std::errc() && end == v.data() + v.size() && std::isfinite(t) && t >= 0) return t;
    if (auto p = parse_time(v)) return *p;
    throw Error(ErrorKind::Usage, "query parameter '" + name + "': '" + v +
                                      "' is neither unix seconds nor an RFC 3339 time (2026-01-01T00:00:00Z)");
  }

 private:
  const std::multimap<std::string, std::string>& params_;
};

ApiResponse json_response(const nlohmann::json& j, int status = 200) {
  return {status, "application/json", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

int64_t job_id_arg(const std::string& s) {
  int64_t id = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || id <= 0)
    throw Error(ErrorKind::Usage, "job id '" + s + "' is not a job number (a whole number above 0)");
  return id;
}

// A jobs filter (plan, source or repository) that names nothing: an error naming what exists, so
// that a typo is not read as "no jobs". Called only when the filtered list came back empty; a
// name the configuration no longer has is still good while the catalog has jobs of it.
void check_filter_name(ApiContext& ctx, const char* param, const std::string& name) {
  if (name.empty()) return;
  auto config = ctx.control.config();
  std::vector<std::string_view> names;
  if (config) {
    if (std::string_view(param) == "plan")
      for (const auto& p : config->plans) names.push_back(p.name);
    else if (std::string_view(param) == "source")
      for (const auto& s : config->sources) names.push_back(s.name);
    else
      for (const auto& r : config->repositories) names.push_back(r.name);
  }
  if (std::find(names.begin(), names.end(), name) != names.end()) return;
  JobFilter any;
  (std::string_view(param) == "plan" ? any.plan : std::string_view(param) == "source" ? any.source : any.repository) =
      name;
  any.limit = 1;
  if (!ctx.catalog.jobs(any).empty()) return;
  std::string msg = "query parameter '" + std::string(param) + "': no " + param + " '" + name +
                    "' in the configuration or the catalog";
  if (std::string near = config::values::nearest(name, names); !near.empty()) {
    msg += "; did you mean '" + near + "'?";
  } else {
    const std::string plural = std::string_view(param) == "repository" ? "repositories" : param + std::string("s");
    msg += "; the configuration's " + plural + ": ";
    constexpr size_t kShown = 10;
    for (size_t i = 0; i < names.size() && i < kShown; i++) msg += (i ? ", " : "") + std::string(names[i]);
    if (names.empty()) msg += "none";
    if (names.size() > kShown) msg += ", … (" + std::to_string(names.size()) + " in all)";
  }
  throw Error(ErrorKind::Usage, msg);
}

JobRecord job_or_404(Catalog& catalog, int64_t id) {
  auto j = catalog.job(id);
  if (!j) throw Error(ErrorKind::NotFound, "no job " + std::to_string(id) + " in the catalog");
  return *j;
}

ApiResponse healthz(ApiContext&, const ApiRequest& r) {
  Query q(r.params, {});
  return json_response({{"status", "ok"}});
}

ApiResponse readyz(ApiContext& ctx, const ApiRequest& r) {
  Query q(r.params, {});
  if (ctx.ready && !ctx.ready()) return json_response({{"status", "starting"}, {"ready", false}}, 503);
  return json_response({{"status", "ready"}, {"ready", true}});
}

// The same computation as the metrics and `arca status` (status.h), so they never disagree.
ApiResponse status(ApiContext& ctx, const ApiRequest& r) {
  Query q(r.params, {});
  auto config = ctx.control.config();
  ServerStatus s = build_status(*config, ctx.catalog, ctx.control.plans(), ctx.runtime, ctx.started_at, ctx.now());
  return json_response(to_json(s));
}

ApiResponse metrics(ApiContext& ctx, const ApiRequest& r) {
  Query q(r.params, {});
  auto config = ctx.control.config();
  std::string text = render_metrics(*config, ctx.catalog, ctx.control.plans(), ctx.runtime, ctx.job_metrics,
                                    ctx.started_at, ctx.last_tick ? ctx.last_tick() : 0, ctx.now());
  return {200, "text/plain; version=0.0.4; charset=utf-8", std::move(text)};
}

ApiResponse list_plans(ApiContext& ctx, const ApiRequest& r) {
  Query q(r.params, {});
  nlohmann::json plans = nlohmann::json::array();
  for (const auto& p : ctx.control.plans()) plans.push_back(to_json(p));
  return json_response({{"plans", plans}});
}

ApiResponse get_plan(ApiContext& ctx, const ApiRequest& r) {
  Query q(r.params, {});
  auto p = ctx.control.plan(r.args[0]);
  if (!p) throw Error(ErrorKind::NotFound, "no plan '" + r.args[0] + "' in the configuration");
  return json_response(to_json(*p));
}

ApiResponse pause_plan(ApiContext& ctx, const ApiRequest& r) {
  Query q(r.params, {});
  return json_response(to_json(ctx.control.pause(r.args[0], r.who)));
}

ApiResponse resume_plan(ApiContext& ctx, const ApiRequest& r) {
  Query q(r.params, {});
  return json_response(to_json(ctx.control.resume(r.args[0], r.who)));
}

ApiResponse run_plan(ApiContext& ctx, const ApiRequest& r) {
  Query q(r.params, {});
  return json_response(to_json(ctx.control.run_now(r.args[0], r.who)), 202);  // queued, not done
}

ApiResponse list_jobs(ApiContext& ctx, const ApiRequest& r) {
  Query q(r.params, {"plan", "source", "repository", "kind", "state", "since", "before_id", "limit"});
  JobFilter f;
  f.plan = q.str("plan");
  f.source = q.str("source");
  f.repository = q.str("repository");
  if (std::string k = q.str("kind"); !k.empty()) {
    f.kind = parse_job_kind(k);
    if (!f.kind)
      throw Error(ErrorKind::Usage, "query parameter 'kind': '" + k + "' is not backup, verify, check, prune or stream");
  }
  if (std::string s = q.str("state"); !s.empty()) {
    f.state = parse_job_state(s);
    if (!f.state)
      throw Error(ErrorKind::Usage, "query parameter 'state': '" + s +
                                        "' is not PENDING, RUNNING, SUCCESS, PARTIAL, FAILED, SKIPPED, EXPIRED, "
                                        "CANCELED or INTERRUPTED");
  }
  f.since = q.time("since");
  f.before_id = q.integer("before_id", 0, 1, INT64_MAX);
  int limit = static_cast<int>(q.integer("limit", 100, 1, kMaxLimit));
  f.limit = limit + 1;  // one more tells whether there is a next page
  std::vector<JobRecord> jobs = ctx.catalog.jobs(f);
  if (jobs.empty()) {
    check_filter_name(ctx, "plan", f.plan);
    check_filter_name(ctx, "source", f.source);
    check_filter_name(ctx, "repository", f.repository);
  }
  nlohmann::json out = {{"jobs", nlohmann::json::array()}, {"next_before_id", nullptr}};
  for (size_t i = 0; i < jobs.size() && i < static_cast<size_t>(limit); i++) out["jobs"].push_back(to_json(jobs[i]));
  if (jobs.size() > static_cast<size_t>(limit)) out["next_before_id"] = jobs[limit - 1].id;
  return json_response(out);
}

ApiResponse get_job(ApiContext& ctx, const ApiRequest& r) {
  Query q(r.params, {});
  return json_response(to_json(job_or_404(ctx.catalog, job_id_arg(r.args[0]))));
}

ApiResponse job_events(ApiContext& ctx, const ApiRequest& r) {
  Query q(r.params, {"after_seq", "limit"});
  int64_t id = job_id_arg(r.args[0]);
  int64_t after = q.integer("after_seq", 0, 0, INT64_MAX);
  int limit = static_cast<int>(q.integer("limit", kMaxLimit, 1, kMaxLimit));
  job_or_404(ctx.catalog, id);
  nlohmann::json events = nlohmann::json::array();
  for (const auto& e : ctx.catalog.events(id, after, limit)) {
    events.push_back(to_json(e));
    after = e.seq;
  }
  return json_response({{"job_id", id}, {"events", events}, {"next_after_seq", after}});
}

ApiResponse cancel_job(ApiContext& ctx, const ApiRequest& r) {
  Query q(r.params, {});
  return json_response(to_json(ctx.control.cancel(job_id_arg(r.args[0]), r.who)));
}

ApiResponse source_points(ApiContext& ctx, const ApiRequest& r) {
  Query q(r.params, {"repository", "limit"});
  const std::string& name = r.args[0];
  auto config = ctx.control.config();
  bool known = false;
  if (config)
    for (const auto& s : config->sources) known = known || s.name == name;
  if (!known) throw Error(ErrorKind::NotFound, "no source '" + name + "' in the configuration");
  int limit = static_cast<int>(q.integer("limit", 100, 1, kMaxLimit));
  nlohmann::json points = nlohmann::json::array();
  for (const auto& p : ctx.catalog.points(name, q.str("repository"), limit)) points.push_back(to_json(p));
  return json_response({{"source", name}, {"points", points}});
}

ApiResponse verifications(ApiContext& ctx, const ApiRequest& r) {
  Query q(r.params, {});
  nlohmann::json out = nlohmann::json::array();
  for (const auto& v : ctx.catalog.last_verifications()) out.push_back(to_json(v));
  return json_response({{"verifications", out}});
}

// The newest result of every drill component, and the newest one that passed (docs/drills.md);
// a drill's whole report is its job's result (/api/v1/jobs/{id}).
ApiResponse drills(ApiContext& ctx, const ApiRequest& r) {
  Query q(r.params, {});
  nlohmann::json last = nlohmann::json::array(), passed = nlohmann::json::array();
  for (const auto& d : ctx.catalog.last_drill_results()) last.push_back(to_json(d));
  for (const auto& d : ctx.catalog.last_passed_drill_results()) passed.push_back(to_json(d));
  return json_response({{"drills", last}, {"passed", passed}});
}

}  // namespace

nlohmann::json error_body(const std::string& kind, const std::string& message) {
  return {{"error", {{"kind", kind}, {"message", message}}}};
}

std::vector<Route> api_routes() {
  const std::optional<Role> open;  // no token needed
  return {
      {"GET", "/healthz", open, healthz},
      {"GET", "/readyz", open, readyz},
      {"GET", "/metrics", Role::Viewer, metrics},
      {"GET", "/api/v1/status", Role::Viewer, status},
      {"GET", "/api/v1/plans", Role::Viewer, list_plans},
      {"GET", "/api/v1/plans/{}", Role::Viewer, get_plan},
      {"POST", "/api/v1/plans/{}/pause", Role::Operator, pause_plan},
      {"POST", "/api/v1/plans/{}/resume", Role::Operator, resume_plan},
      {"POST", "/api/v1/plans/{}/run", Role::Operator, run_plan},
      {"GET", "/api/v1/jobs", Role::Viewer, list_jobs},
      {"GET", "/api/v1/jobs/{}", Role::Viewer, get_job},
      {"GET", "/api/v1/jobs/{}/events", Role::Viewer, job_events},
      {"POST", "/api/v1/jobs/{}/cancel", Role::Operator, cancel_job},
      {"GET", "/api/v1/sources/{}/points", Role::Viewer, source_points},
      {"GET", "/api/v1/verifications", Role::Viewer, verifications},
      {"GET", "/api/v1/drills", Role::Viewer, drills},
  };
}

std::vector<std::string> path_segments(const std::string& path) {
  std::vector<std::string> out;
  if (path.empty() || path[0] != '/') return out;
  size_t start = 1;
  while (true) {
    size_t slash = path.find('/', start);
    out.push_back(path.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return out;
}

bool match_route(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
                 std::vector<std::string>& args) {
  if (pattern.size() != path.size()) return false;
  std::vector<std::string> found;
  for (size_t i = 0; i < pattern.size(); i++) {
    if (pattern[i] == "{}") {
      if (path[i].empty()) return false;
      found.push_back(path[i]);
    } else if (pattern[i] != path[i]) {
      return false;
    }
  }
  args = std::move(found);
  return true;
}

}  // namespace arca::server
