// The HTTP API (src/server/api.cpp) against the real SQLite catalog and a fake scheduler: tokens
// and roles, the error mapping, paging, malformed requests, TLS, liveness and readiness.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <set>
#include <mutex>

#include <yaml-cpp/yaml.h>

#include "ops/error_table.h"
#include "server/api.h"
#include "server/api_json.h"
#include "server/api_routes.h"
#include "test_util.h"

using namespace arca;
using namespace arca::server;
using arca::testing::kind_of;

namespace {

constexpr double kNow = 1767225600;  // 2026-01-01T00:00:00Z

// The scheduler's side, in memory: two plans, jobs in the catalog.
class FakeControl : public PlanControl {
 public:
  explicit FakeControl(Catalog& catalog) : catalog_(catalog) {
    auto cfg = std::make_shared<ServerConfig>();
    SourceConfig db;
    db.name = "db";
    db.kind = SourceKind::Postgres;
    db.repository = "main";
    cfg->sources.push_back(db);
    config_ = cfg;
    for (const char* name : {"nightly", "weekly-verify"}) {
      PlanView v;
      v.name = name;
      v.kind = std::string(name) == "nightly" ? JobKind::Backup : JobKind::Verify;
      v.source = "db";
      v.repository = "main";
      v.schedule = "cron 0 2 * * * (UTC)";
      v.next_due = kNow + 7200;
      plans_[name] = v;
    }
  }

  JobRecord run_now(const std::string& plan, const std::string& who) override {
    std::lock_guard lk(mu_);
    const PlanView& p = known(plan);
    last_who = who;
    JobRecord j;
    j.plan = p.name;
    j.kind = p.kind;
    j.source = p.source;
    j.repository = p.repository;
    j.trigger = "manual";
    j.created_at = j.scheduled_at = kNow;
    catalog_.create_job(j);
    return j;
  }
  JobRecord cancel(int64_t job_id, const std::string& who) override {
    std::lock_guard lk(mu_);
    auto j = catalog_.job(job_id);
    if (!j) throw Error(ErrorKind::NotFound, "no job " + std::to_string(job_id));
    if (is_final(j->state)) throw Error(ErrorKind::Conflict, "job " + std::to_string(job_id) + " already ended");
    last_who = who;
    j->state = JobState::Canceled;
    j->finished_at = kNow;
    j->reason = "canceled by " + who;
    catalog_.finish_job(*j);
    return *j;
  }
  PlanView pause(const std::string& plan, const std::string& who) override { return set_paused(plan, who, true); }
  PlanView resume(const std::string& plan, const std::string& who) override { return set_paused(plan, who, false); }
  std::vector<PlanView> plans() override {
    std::lock_guard lk(mu_);
    std::vector<PlanView> out;
    for (const auto& [n, p] : plans_) out.push_back(p);
    return out;
  }
  std::optional<PlanView> plan(const std::string& name) override {
    std::lock_guard lk(mu_);
    auto it = plans_.find(name);
    if (it == plans_.end()) return std::nullopt;
    return it->second;
  }
  std::shared_ptr<const ServerConfig> config() const override { return config_; }

  std::string last_who;

 private:
  const PlanView& known(const std::string& plan) {
    auto it = plans_.find(plan);
    if (it == plans_.end()) throw Error(ErrorKind::NotFound, "no plan '" + plan + "'");
    return it->second;
  }
  PlanView set_paused(const std::string& plan, const std::string& who, bool paused) {
    std::lock_guard lk(mu_);
    known(plan);
    last_who = who;
    plans_[plan].paused = paused;
    return plans_[plan];
  }

  Catalog& catalog_;
  std::mutex mu_;
  std::map<std::string, PlanView> plans_;
  std::shared_ptr<const ServerConfig> config_;
};

// A server on a free loopback port with a viewer, an operator and an admin token.
struct ServerApi : ::testing::Test {
  TempDir dir;
  std::unique_ptr<Catalog> catalog = open_sqlite_catalog(dir.path + "/catalog.db");
  FakeControl control{*catalog};
  Runtime runtime;
  JobMetrics job_metrics;
  std::atomic<bool> ready{true};
  std::atomic<double> now{kNow};
  std::string viewer, operator_, admin;
  std::unique_ptr<ApiServer> server;

  void SetUp() override {
    viewer = create_token(*catalog, "grafana", "viewer", kNow).token;
    operator_ = create_token(*catalog, "oncall", "operator", kNow).token;
    admin = create_token(*catalog, "root", "admin", kNow).token;
    ServerSettings s;
    s.listen = "127.0.0.1:0";
    server = start_server(s);
  }

  std::unique_ptr<ApiServer> start_server(const ServerSettings& s) {
    ApiContext ctx{*catalog, control, runtime, job_metrics, [this] { return now.load(); },
                   [this] { return ready.load(); }, kNow - 60, [] { return kNow; }};
    auto srv = std::make_unique<ApiServer>(ctx, s);
    srv->start();
    return srv;
  }

  httplib::Client client() {
    httplib::Client c("127.0.0.1", server->port());
    c.set_connection_timeout(2);
    c.set_read_timeout(5);
    return c;
  }
  static httplib::Headers auth(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

  httplib::Result get(const std::string& path, const std::string& token = "") {
    auto c = client();
    return token.empty() ? c.Get(path.c_str()) : c.Get(path.c_str(), auth(token));
  }
  httplib::Result post(const std::string& path, const std::string& token = "", const std::string& body = "") {
    auto c = client();
    return c.Post(path.c_str(), token.empty() ? httplib::Headers{} : auth(token), body, "application/json");
  }

  int64_t add_job(const std::string& plan, JobState state, double created) {
    JobRecord j;
    j.plan = plan;
    j.source = "db";
    j.repository = "main";
    j.trigger = "schedule";
    j.created_at = j.scheduled_at = created;
    catalog->create_job(j);
    if (is_final(state)) {
      catalog->start_job(j.id, "test", created + 1, created + 30);
      j.state = state;
      j.finished_at = created + 5;
      j.reason = state == JobState::Failed ? "disk full" : "";
      catalog->finish_job(j);
    }
    return j.id;
  }
};

nlohmann::json body_of(const httplib::Result& r) {
  EXPECT_TRUE(r) << "no response";
  if (!r) return nullptr;
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << r->body;
  return j;
}

// The error kind of a JSON error answer ("" when the body is no such error).
std::string error_kind(const httplib::Result& r) {
  auto j = body_of(r);
  if (!j.is_object() || !j.contains("error")) return "";
  EXPECT_TRUE(j["error"]["message"].is_string() && !j["error"]["message"].get<std::string>().empty());
  return j["error"]["kind"].get<std::string>();
}

// Whether `r` holds a whole HTTP response (headers and a Content-Length body).
bool complete_response(const std::string& r) {
  size_t end = r.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  std::string head = r.substr(0, end);
  for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t cl = head.find("\r\ncontent-length:");
  size_t len = cl == std::string::npos ? 0 : std::stoul(head.substr(cl + 17));
  return r.size() >= end + 4 + len;
}

// Sends raw bytes on a new connection and returns the answer: a whole response, or what came
// before the server closed the connection or stayed silent for 150 ms.
std::string raw_exchange(int port, const std::string& bytes) {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{0, 150000};
  ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    ::send(s, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    char buf[4096];
    for (ssize_t n; !complete_response(out) && (n = ::recv(s, buf, sizeof buf, 0)) > 0;)
      out.append(buf, static_cast<size_t>(n));
  }
  ::close(s);
  return out;
}

// Every route that needs a token, with the role it needs.
const std::vector<std::pair<std::string, std::string>> kGuarded = {
    {"GET", "/metrics"},
    {"GET", "/api/v1/status"},
    {"GET", "/api/v1/plans"},
    {"GET", "/api/v1/plans/nightly"},
    {"POST", "/api/v1/plans/nightly/pause"},
    {"POST", "/api/v1/plans/nightly/resume"},
    {"POST", "/api/v1/plans/nightly/run"},
    {"GET", "/api/v1/jobs"},
    {"GET", "/api/v1/jobs/1"},
    {"GET", "/api/v1/jobs/1/events"},
    {"POST", "/api/v1/jobs/1/cancel"},
    {"GET", "/api/v1/sources/db/points"},
    {"GET", "/api/v1/verifications"},
    {"GET", "/api/v1/drills"},
};

}  // namespace

TEST_F(ServerApi, LivenessAndReadinessNeedNoToken) {
  auto h = get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(body_of(h)["status"], "ok");
  ready = false;
  auto r = get("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503) << "not ready until the catalog is open and recovery is done";
  EXPECT_EQ(get("/healthz")->status, 200) << "alive while not ready";
  ready = true;
  EXPECT_EQ(get("/readyz")->status, 200);
}

TEST_F(ServerApi, EveryGuardedEndpointRefusesMissingWrongAndRevokedTokens) {
  NewToken revoked = create_token(*catalog, "old", "admin", kNow);
  ASSERT_TRUE(catalog->revoke_token(revoked.record.id));
  std::string wrong = admin.substr(0, admin.size() - 1) + (admin.back() == '0' ? "1" : "0");
  for (const auto& [method, path] : kGuarded) {
    for (const std::string& token : {std::string(), wrong, revoked.token, std::string("arca_x"), std::string("Basic")}) {
      auto r = method == "GET" ? get(path, token) : post(path, token);
      ASSERT_TRUE(r) << method << " " << path;
      EXPECT_EQ(r->status, 401) << method << " " << path << " with '" << token << "'";
      EXPECT_EQ(r->get_header_value("WWW-Authenticate").rfind("Bearer", 0), 0u) << path;
      EXPECT_EQ(error_kind(r), "auth");
      EXPECT_EQ(r->body.find(revoked.token), std::string::npos) << "a token is never echoed";
    }
  }
}

TEST_F(ServerApi, ViewerReadsButOnlyOperatorAndAdminAct) {
  int64_t running = add_job("nightly", JobState::Pending, kNow - 10);
  for (const auto& [method, path] : kGuarded) {
    if (method != "POST") continue;
    auto r = post(path, viewer);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403) << path;
    EXPECT_EQ(error_kind(r), "refused") << path;
  }
  EXPECT_FALSE(control.plan("nightly")->paused) << "a refused call changed nothing";

  auto p = post("/api/v1/plans/nightly/pause", operator_);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status, 200);
  EXPECT_EQ(body_of(p)["paused"], true);
  EXPECT_NE(control.last_who.find("oncall"), std::string::npos) << "the scheduler learns who: " << control.last_who;
  EXPECT_EQ(body_of(post("/api/v1/plans/nightly/resume", admin))["paused"], false);

  auto run = post("/api/v1/plans/nightly/run", operator_, "{}");
  ASSERT_TRUE(run);
  EXPECT_EQ(run->status, 202);
  auto job = body_of(run);
  EXPECT_EQ(job["plan"], "nightly");
  EXPECT_EQ(job["state"], "PENDING");
  EXPECT_EQ(job["trigger"], "manual");
  EXPECT_TRUE(catalog->job(job["id"].get<int64_t>()).has_value());

  auto c = post("/api/v1/jobs/" + std::to_string(running) + "/cancel", operator_);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->status, 200);
  EXPECT_EQ(body_of(c)["state"], "CANCELED");
  EXPECT_EQ(catalog->job(running)->state, JobState::Canceled);

  for (const auto& [method, path] : kGuarded) {
    if (method != "GET") continue;
    auto r = get(path, viewer);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->status == 200 || r->status == 404) << path << ": " << r->status << " " << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type").rfind(path == "/metrics" ? "text/plain; version=0.0.4" : "application/json", 0), 0u)
        << path;
  }
}

TEST_F(ServerApi, StatusAndMetricsComeFromTheSameCatalog) {
  catalog->add_point({"main", std::string(64, 'c'), "postgres", "db", "h1", kNow - 300, kNow - 310, 1, false});
  auto st = body_of(get("/api/v1/status", viewer));
  ASSERT_EQ(st["components"].size(), 1u);
  EXPECT_EQ(st["components"][0]["source"], "db");
  EXPECT_EQ(st["components"][0]["live_rpo_s"], 310);
  EXPECT_EQ(st["now"], rfc3339(kNow));
  auto m = get("/metrics", viewer);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_NE(m->body.find("source=\"db\""), std::string::npos) << m->body.substr(0, 500);
}

TEST_F(ServerApi, ErrorKindsAnswerWithTheirStatus) {
  auto unknown_plan = post("/api/v1/plans/nope/run", operator_);
  ASSERT_TRUE(unknown_plan);
  EXPECT_EQ(unknown_plan->status, 404);
  EXPECT_EQ(error_kind(unknown_plan), "not_found");
  EXPECT_EQ(get("/api/v1/plans/nope", viewer)->status, 404);
  EXPECT_EQ(get("/api/v1/jobs/999", viewer)->status, 404);
  EXPECT_EQ(get("/api/v1/jobs/999/events", viewer)->status, 404);
  EXPECT_EQ(get("/api/v1/sources/nope/points", viewer)->status, 404);

  int64_t done = add_job("nightly", JobState::Success, kNow - 100);
  auto conflict = post("/api/v1/jobs/" + std::to_string(done) + "/cancel", operator_);
  ASSERT_TRUE(conflict);
  EXPECT_EQ(conflict->status, 409);
  EXPECT_EQ(error_kind(conflict), "conflict");
  EXPECT_NE(body_of(conflict)["error"]["message"].get<std::string>().find("already ended"), std::string::npos);
}

TEST_F(ServerApi, JobsPageNewestFirstAndFilter) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; i++)
    ids.push_back(add_job("nightly", i == 2 ? JobState::Failed : JobState::Success, kNow - 1000 + i * 10));
  int64_t other = add_job("weekly-verify", JobState::Success, kNow - 500);

  std::vector<int64_t> seen;
  std::string path = "/api/v1/jobs?plan=nightly&limit=2";
  for (int page = 0; page < 5; page++) {
    auto j = body_of(get(path, viewer));
    EXPECT_LE(j["jobs"].size(), 2u);
    for (const auto& job : j["jobs"]) seen.push_back(job["id"].get<int64_t>());
    if (j["next_before_id"].is_null()) break;
    path = "/api/v1/jobs?plan=nightly&limit=2&before_id=" + std::to_string(j["next_before_id"].get<int64_t>());
  }
  EXPECT_EQ(seen, (std::vector<int64_t>{ids[4], ids[3], ids[2], ids[1], ids[0]})) << "every job once, newest first";

  auto failed = body_of(get("/api/v1/jobs?state=FAILED", viewer));
  ASSERT_EQ(failed["jobs"].size(), 1u);
  EXPECT_EQ(failed["jobs"][0]["id"], ids[2]);
  EXPECT_EQ(failed["jobs"][0]["reason"], "disk full");
  EXPECT_EQ(body_of(get("/api/v1/jobs?state=failed", viewer))["jobs"].size(), 1u) << "either spelling";

  auto since = body_of(get("/api/v1/jobs?since=" + rfc3339(kNow - 600), viewer));
  ASSERT_EQ(since["jobs"].size(), 1u);
  EXPECT_EQ(since["jobs"][0]["id"], other);
  EXPECT_EQ(since["jobs"][0]["created_at"], rfc3339(kNow - 500));
  EXPECT_EQ(since["jobs"][0]["created_at_unix"], kNow - 500);
}

// A filter naming no plan, source or repository is a 400 that says so (with a suggestion), not an
// empty list; a name only the catalog still knows (a plan removed from the configuration) works.
TEST_F(ServerApi, JobsFilterNamingNothingIs400) {
  add_job("retired-plan", JobState::Success, kNow - 100);
  auto retired = body_of(get("/api/v1/jobs?plan=retired-plan", viewer));
  EXPECT_EQ(retired["jobs"].size(), 1u);
  auto none = get("/api/v1/jobs?source=db&state=RUNNING", viewer);  // known, just nothing running
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 200);

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/api/v1/jobs?plan=nosuch", "no plan 'nosuch' in the configuration or the catalog"},
      {"/api/v1/jobs?source=dbb", "no source 'dbb' in the configuration or the catalog; did you mean 'db'?"},
      {"/api/v1/jobs?repository=elsewhere", "no repository 'elsewhere' in the configuration or the catalog; the "
                                            "configuration's repositories: none"},
      {"/api/v1/jobs?source=zzzzzz", "; the configuration's sources: db"},
  };
  for (const auto& [path, says] : cases) {
    auto r = get(path, viewer);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 400) << path;
    EXPECT_EQ(error_kind(r), "usage") << path;
    EXPECT_NE(body_of(r)["error"]["message"].get<std::string>().find(says), std::string::npos) << path << ": " << r->body;
  }
}

TEST_F(ServerApi, JobEventsFollowWithAfterSeq) {
  int64_t id = add_job("nightly", JobState::Success, kNow - 100);
  std::vector<JobEvent> events;
  for (int i = 1; i <= 3; i++)
    events.push_back({id, i, kNow - 100 + i, Event{EventLevel::Info, "backup.step", "step " + std::to_string(i), {{"n", std::to_string(i)}}}});
  catalog->add_events(id, events);
  auto all = body_of(get("/api/v1/jobs/" + std::to_string(id) + "/events", viewer));
  ASSERT_EQ(all["events"].size(), 3u);
  EXPECT_EQ(all["events"][0]["message"], "step 1");
  EXPECT_EQ(all["events"][0]["fields"]["n"], "1");
  EXPECT_EQ(all["next_after_seq"], 3);
  auto rest = body_of(get("/api/v1/jobs/" + std::to_string(id) + "/events?after_seq=2", viewer));
  ASSERT_EQ(rest["events"].size(), 1u);
  EXPECT_EQ(rest["events"][0]["seq"], 3);
}

TEST_F(ServerApi, PointsAndVerifications) {
  catalog->add_point({"main", std::string(64, 'a'), "postgres", "db", "h1", kNow - 300, kNow - 310, 1234, false});
  catalog->add_point({"main", std::string(64, 'b'), "postgres", "db", "h1", kNow - 200, kNow - 210, 2345, false});
  auto pts = body_of(get("/api/v1/sources/db/points?limit=1", viewer));
  ASSERT_EQ(pts["points"].size(), 1u);
  EXPECT_EQ(pts["points"][0]["snapshot_id"], std::string(64, 'b'));
  EXPECT_EQ(pts["points"][0]["data_time_unix"], kNow - 210);

  catalog->add_verification({0, "db", "main", "pg-verify", kNow - 50, true, 12.5, "ok"});
  auto v = body_of(get("/api/v1/verifications", viewer));
  ASSERT_EQ(v["verifications"].size(), 1u);
  EXPECT_EQ(v["verifications"][0]["kind"], "pg-verify");
  EXPECT_EQ(v["verifications"][0]["ok"], true);
}

TEST_F(ServerApi, MalformedQueryValuesAre400NamingTheParameter) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/api/v1/jobs?limit=abc", "limit"},        {"/api/v1/jobs?limit=0", "limit"},
      {"/api/v1/jobs?limit=1001", "limit"},       {"/api/v1/jobs?state=BOGUS", "state"},
      {"/api/v1/jobs?kind=snapshot", "kind"},     {"/api/v1/jobs?since=yesterday", "since"},
      {"/api/v1/jobs?before_id=-1", "before_id"}, {"/api/v1/jobs?stat=FAILED", "stat"},
      {"/api/v1/jobs?limit=1&limit=2", "limit"},  {"/api/v1/jobs/abc", "abc"},
      {"/api/v1/jobs/1/events?after_seq=x", "after_seq"}, {"/api/v1/sources/db/points?limit=-3", "limit"},
  };
  for (const auto& [path, name] : cases) {
    auto r = get(path, viewer);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 400) << path;
    EXPECT_EQ(error_kind(r), "usage") << path;
    EXPECT_NE(body_of(r)["error"]["message"].get<std::string>().find(name), std::string::npos) << path << ": " << r->body;
  }
}

TEST_F(ServerApi, UnknownRoutesAre404AndWrongMethods405) {
  for (const std::string path : {"/", "/api", "/api/v1", "/api/v2/plans", "/api/v1/plans/nightly/explode", "/api/v1/plans/"}) {
    auto r = get(path, admin);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_EQ(error_kind(r), "not_found") << path;
  }
  auto r = get("/api/v1/plans/nightly/run", operator_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->get_header_value("Allow"), "POST");
  auto c = client();
  auto d = c.Delete("/api/v1/jobs/1", auth(admin));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->status, 405);
  EXPECT_EQ(error_kind(d), "method_not_allowed");
}

TEST_F(ServerApi, PostBodiesMustBeJsonAndSmall) {
  auto bad = post("/api/v1/plans/nightly/pause", operator_, "pause please");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(error_kind(bad), "usage");
  EXPECT_FALSE(control.plan("nightly")->paused);
  auto big = post("/api/v1/plans/nightly/pause", operator_, "[" + std::string(70 * 1024, ' ') + "]");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(post("/api/v1/plans/nightly/pause", operator_, "{}")->status, 200);
}

// `curl -X POST URL` sends neither Content-Length nor a body; `curl -d '{}'` sends a form body,
// which must not be read as query parameters.
TEST_F(ServerApi, PostWithoutABodyOrWithAFormEncodedObjectIsAccepted) {
  std::string bare = raw_exchange(server->port(), "POST /api/v1/plans/nightly/resume HTTP/1.1\r\nHost: a\r\n"
                                                  "Authorization: Bearer " + operator_ + "\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(bare.rfind("HTTP/1.1 200", 0), 0u) << bare.substr(0, 300);
  std::string viewer_post = raw_exchange(server->port(), "POST /api/v1/plans/nightly/pause HTTP/1.1\r\nHost: a\r\n"
                                                         "Authorization: Bearer " + viewer + "\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(viewer_post.rfind("HTTP/1.1 403", 0), 0u) << viewer_post.substr(0, 300);
  std::string form = raw_exchange(server->port(),
                                  "POST /api/v1/plans/nightly/pause HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer " +
                                      operator_ +
                                      "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 2\r\n"
                                      "Connection: close\r\n\r\n{}");
  EXPECT_EQ(form.rfind("HTTP/1.1 200", 0), 0u) << form.substr(0, 300);
  EXPECT_TRUE(control.plan("nightly")->paused);
}

TEST_F(ServerApi, OddRequestsGetAnAnswerAndNeverStopTheServer) {
  const std::vector<std::string> requests = {
      "GET /api/v1/plans/%zz%%/x%00y HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
      "GET /" + std::string(2000, 'a') + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
      "GET /" + std::string(20000, 'b') + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
      "GET /api/v1/plans HTTP/1.1\r\nX-Big: " + std::string(100000, 'c') + "\r\nConnection: close\r\n\r\n",
      "GET /api/v1/plans HTTP/1.1\r\nAuthorization: Bearer " + std::string(5000, '_') + "\r\nConnection: close\r\n\r\n",
      "BREW /coffee HTCPCP/1.0\r\n\r\n",
      "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
      "POST /api/v1/jobs/1/cancel HTTP/1.1\r\nContent-Length: 99999999999\r\nConnection: close\r\n\r\n",
      "POST /api/v1/jobs/1/cancel HTTP/1.1\r\nContent-Length: -5\r\nConnection: close\r\n\r\n",
      "POST /api/v1/jobs/1/cancel HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n\r\n",
      "GET /api/v1/jobs?limit=%ff%fe&state=%00 HTTP/1.1\r\nAuthorization: Bearer " + viewer +
          "\r\nConnection: close\r\n\r\n",
  };
  for (const auto& req : requests) {
    std::string answer = raw_exchange(server->port(), req);
    if (answer.empty()) continue;  // the connection closed without an answer: allowed
    EXPECT_EQ(answer.rfind("HTTP/1.1 ", 0), 0u) << answer.substr(0, 200);
    EXPECT_NE(answer.substr(9, 1), "2") << "refused: " << req.substr(0, 60);
  }
  auto long_path = raw_exchange(server->port(), requests[1]);
  EXPECT_NE(long_path.find(" 414 "), std::string::npos) << long_path.substr(0, 100);
  auto h = get("/healthz");
  ASSERT_TRUE(h) << "the server still answers";
  EXPECT_EQ(h->status, 200);
}

TEST_F(ServerApi, TokensAreStoredHashedAndTouchedAtMostOncePerMinute) {
  NewToken t = create_token(*catalog, "ci", "operator", kNow);
  EXPECT_EQ(t.token.rfind("arca_" + t.record.id + "_", 0), 0u);
  EXPECT_EQ(t.record.id.rfind("tok_", 0), 0u);
  for (const auto& rec : catalog->tokens()) {
    EXPECT_EQ(rec.hash.size(), 64u);
    EXPECT_EQ(rec.hash.find(t.token.substr(t.token.rfind('_') + 1)), std::string::npos) << "no secret stored";
  }
  ASSERT_TRUE(authenticate(*catalog, t.token));
  EXPECT_EQ(authenticate(*catalog, t.token)->role, "operator");
  std::string tampered = t.token;
  tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(authenticate(*catalog, tampered));
  EXPECT_FALSE(authenticate(*catalog, ""));
  EXPECT_FALSE(authenticate(*catalog, "arca_" + t.record.id + "_"));
  EXPECT_EQ(kind_of([&] { create_token(*catalog, "x", "root", kNow); }), ErrorKind::Usage);
  EXPECT_EQ(kind_of([&] { create_token(*catalog, "", "viewer", kNow); }), ErrorKind::Usage);

  auto last_used = [&] {
    for (const auto& rec : catalog->tokens())
      if (rec.id == t.record.id) return rec.last_used_at;
    return -1.0;
  };
  now = kNow + 10;
  EXPECT_EQ(get("/api/v1/plans", t.token)->status, 200);
  EXPECT_EQ(last_used(), kNow + 10);
  now = kNow + 30;
  EXPECT_EQ(get("/api/v1/plans", t.token)->status, 200);
  EXPECT_EQ(last_used(), kNow + 10) << "not written again within a minute";
  now = kNow + 75;
  EXPECT_EQ(get("/api/v1/plans", t.token)->status, 200);
  EXPECT_EQ(last_used(), kNow + 75);
}

TEST_F(ServerApi, ListenAddressErrors) {
  ServerSettings s;
  for (const char* bad : {"localhost", "127.0.0.1:http", ":8670", "127.0.0.1:70000"}) {
    s.listen = bad;
    EXPECT_EQ(kind_of([&] { start_server(s); }), ErrorKind::Usage) << bad;
  }
  s.listen = "127.0.0.1:" + std::to_string(server->port());
  EXPECT_EQ(kind_of([&] { start_server(s); }), ErrorKind::Io) << "the port is taken";
}

TEST_F(ServerApi, TlsServesHttpsOnly) {
  std::string cert = dir.path + "/cert.pem", key = dir.path + "/key.pem";
  std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj "
                    "/CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " + key + " -out " + cert +
                    " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  ServerSettings s;
  s.listen = "127.0.0.1:0";
  s.tls_certificate = cert;
  s.tls_key = key;
  auto tls = start_server(s);

  httplib::SSLClient https("127.0.0.1", tls->port());
  https.set_ca_cert_path(cert.c_str());
  https.enable_server_certificate_verification(true);
  https.set_connection_timeout(2);
  auto r = https.Get("/api/v1/plans", auth(viewer));
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(body_of(r)["plans"].size(), 2u);

  httplib::SSLClient untrusting("127.0.0.1", tls->port());
  untrusting.enable_server_certificate_verification(true);
  untrusting.set_connection_timeout(2);
  EXPECT_FALSE(untrusting.Get("/healthz")) << "a certificate nobody vouched for is refused";

  httplib::Client plain("127.0.0.1", tls->port());
  plain.set_connection_timeout(2);
  plain.set_read_timeout(2);
  auto p = plain.Get("/healthz");
  EXPECT_TRUE(!p || p->status >= 400) << "plain HTTP gets no answer from the HTTPS server";
}

TEST_F(ServerApi, TlsFilesThatCannotBeLoadedAreUsageErrorsNamingTheFile) {
  ServerSettings s;
  s.listen = "127.0.0.1:0";
  s.tls_certificate = dir.path + "/missing.pem";
  s.tls_key = dir.path + "/missing.key";
  try {
    start_server(s);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
    EXPECT_NE(std::string(e.what()).find("missing.pem"), std::string::npos) << e.what();
  }
  std::ofstream(dir.path + "/junk.pem") << "not a certificate\n";
  s.tls_certificate = s.tls_key = dir.path + "/junk.pem";
  EXPECT_EQ(kind_of([&] { start_server(s); }), ErrorKind::Usage);
  s.tls_key = "";
  EXPECT_EQ(kind_of([&] { start_server(s); }), ErrorKind::Usage) << "certificate without key";
}

TEST(ServerApiDoc, OpenApiDocumentListsEveryRouteAndErrorKind) {
  YAML::Node doc = YAML::LoadFile(std::string(ARCA_SOURCE_DIR) + "/docs/openapi.yaml");
  std::set<std::string> documented, routed;
  for (const auto& path : doc["paths"]) {
    std::string p = path.first.as<std::string>();
    for (size_t open; (open = p.find('{')) != std::string::npos && p[open + 1] != '}';)
      p.replace(open, p.find('}', open) - open + 1, "{}");  // "{name}" -> "{}", as api_routes() spells it
    for (const auto& op : path.second)
      if (op.first.as<std::string>() != "parameters") documented.insert(op.first.as<std::string>() + " " + p);
  }
  for (const auto& r : api_routes()) {
    std::string m = r.method;
    for (auto& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    routed.insert(m + " " + r.pattern);
  }
  EXPECT_EQ(documented, routed);
  std::set<std::string> kinds;
  for (const auto& k : doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["kind"]["enum"])
    kinds.insert(k.as<std::string>());
  for (const auto& k : error_kind_table()) EXPECT_TRUE(kinds.count(k.name)) << k.name << " is not in docs/openapi.yaml";
}
