// Tests of src/server/notifier.h: event names and bodies, webhooks delivered to a real HTTP
// server in this process (signature, retries, filters, deduplication), and e-mail delivered to
// a real SMTP server (Debian's python3-aiosmtpd) started by the test.
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "server/notification_text.h"
#include "server/notifier.h"
#include "test_util.h"
#include "util/bytes.h"
#include "util/net.h"
#include "util/subprocess.h"

using namespace arca;
using namespace arca::server;

namespace {

constexpr double kT0 = 1772330400;  // 2026-03-01T02:00:00Z

// A webhook receiver: answers with the statuses it is given (then 200) and keeps what it got.
struct Received {
  std::string body, event, delivery, signature, content_type;
};

class HookServer {
 public:
  explicit HookServer(std::deque<int> statuses = {}) : statuses_(std::move(statuses)) {
    svr_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lk(mu_);
      got_.push_back({req.body, req.get_header_value("X-Arca-Event"), req.get_header_value("X-Arca-Delivery"),
                      req.get_header_value("X-Arca-Signature"), req.get_header_value("Content-Type")});
      res.status = 200;
      if (!statuses_.empty()) {
        res.status = statuses_.front();
        statuses_.pop_front();
      }
      res.set_content("{}", "application/json");
    });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    while (!svr_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // stop() needs it
  }
  ~HookServer() {
    svr_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  std::vector<Received> got() {
    std::lock_guard lk(mu_);
    return got_;
  }

 private:
  httplib::Server svr_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::deque<int> statuses_;
  std::vector<Received> got_;
};

// Short waits, and log lines kept for the test to read.
struct Logged {
  std::mutex mu;
  std::vector<std::string> lines;
  std::string all() {
    std::lock_guard lk(mu);
    std::string s;
    for (const auto& l : lines) s += l + "\n";
    return s;
  }
};

NotifierOptions fast(Logged& logged) {
  NotifierOptions o;
  o.backoff_s = 0.02;
  o.timeout_s = 5;
  o.flush_s = 2;
  o.log = [&logged](EventLevel, const std::string& m) {
    std::lock_guard lk(logged.mu);
    logged.lines.push_back(m);
  };
  return o;
}

JobRecord job(const std::string& plan, JobState state, int64_t id, double at, JobKind kind = JobKind::Backup) {
  JobRecord j;
  j.id = id;
  j.plan = plan;
  j.kind = kind;
  j.source = "db";
  j.repository = "main";
  j.state = state;
  j.trigger = "schedule";
  j.scheduled_at = at - 5;
  j.created_at = at - 5;
  j.started_at = at - 4;
  if (is_final(state)) j.finished_at = at;
  if (state == JobState::Running) j.started_at = at;
  return j;
}

Notification note(const std::string& plan, JobState state, int64_t id, double at, JobKind kind = JobKind::Backup) {
  auto n = notification_for(job(plan, state, id, at, kind));
  if (!n) throw std::runtime_error("no notification for this job");
  return *n;
}

std::shared_ptr<const ServerConfig> hooks_config(
    const std::vector<std::pair<std::string, std::vector<std::string>>>& hooks, const std::string& secret_file = "") {
  auto c = std::make_shared<ServerConfig>();
  for (const auto& [url, events] : hooks) {
    WebhookConfig w;
    w.url = url;
    w.events = events;
    w.secret.file = secret_file;
    c->webhooks.push_back(w);
  }
  return c;
}

std::string hmac_hex(const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), int(key.size()), reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac,
       &len);
  return to_hex(ByteView(mac, len));
}

}  // namespace

TEST(ServerNotifier, EventNamesFollowAwsBackup) {
  EXPECT_EQ(note("p", JobState::Running, 1, kT0).event, "BACKUP_JOB_STARTED");
  EXPECT_EQ(note("p", JobState::Success, 1, kT0).event, "BACKUP_JOB_COMPLETED");
  EXPECT_EQ(note("p", JobState::Partial, 1, kT0).event, "BACKUP_JOB_COMPLETED");
  EXPECT_EQ(note("p", JobState::Failed, 1, kT0).event, "BACKUP_JOB_FAILED");
  EXPECT_EQ(note("p", JobState::Expired, 1, kT0).event, "BACKUP_JOB_EXPIRED");
  EXPECT_EQ(note("p", JobState::Canceled, 1, kT0).event, "BACKUP_JOB_CANCELED");
  EXPECT_EQ(note("p", JobState::Interrupted, 1, kT0).event, "BACKUP_JOB_INTERRUPTED");
  EXPECT_EQ(note("p", JobState::Failed, 1, kT0, JobKind::Verify).event, "VERIFICATION_JOB_FAILED");
  EXPECT_EQ(note("p", JobState::Success, 1, kT0, JobKind::Check).event, "VERIFICATION_JOB_COMPLETED");
  EXPECT_EQ(note("p", JobState::Failed, 1, kT0, JobKind::Prune).event, "PRUNE_JOB_FAILED");
  EXPECT_EQ(note("p", JobState::Failed, 1, kT0, JobKind::Stream).event, "STREAM_FAILED");
  EXPECT_EQ(note("p", JobState::Running, 1, kT0, JobKind::Stream).event, "STREAM_STARTED");
  auto restart = job("p", JobState::Running, 2, kT0, JobKind::Stream);
  restart.attempt = 2;
  EXPECT_EQ(notification_for(restart)->event, "STREAM_RESTARTED");
  EXPECT_FALSE(notification_for(job("p", JobState::Pending, 1, kT0)).has_value());
  // Every event a job can produce is in the list the configuration checks against.
  const auto& known = notification_events();
  for (auto kind : {JobKind::Backup, JobKind::Verify, JobKind::Check, JobKind::Prune, JobKind::Stream})
    for (auto state : {JobState::Running, JobState::Success, JobState::Partial, JobState::Failed, JobState::Skipped,
                       JobState::Expired, JobState::Canceled, JobState::Interrupted})
      for (int attempt : {1, 2}) {
        auto j = job("p", state, 1, kT0, kind);
        j.attempt = attempt;
        auto e = notification_for(j)->event;
        EXPECT_NE(std::find(known.begin(), known.end(), e), known.end()) << e;
      }

  auto partial = job("nightly-db", JobState::Partial, 42, kT0);
  partial.warnings = 3;
  partial.reason = "3 files could not be read";
  partial.snapshot_id = "abc123";
  auto n = *notification_for(partial);
  EXPECT_EQ(n.time, kT0);
  EXPECT_EQ(n.body["event"], "BACKUP_JOB_COMPLETED");
  EXPECT_EQ(n.body["time"], "2026-03-01T02:00:00.000Z");
  EXPECT_EQ(n.body["plan"], "nightly-db");
  EXPECT_EQ(n.body["kind"], "backup");
  EXPECT_EQ(n.body["source"], "db");
  EXPECT_EQ(n.body["repository"], "main");
  EXPECT_FALSE(n.body["host"].get<std::string>().empty());
  EXPECT_EQ(n.body["job"]["id"], 42);
  EXPECT_EQ(n.body["job"]["state"], "PARTIAL");
  EXPECT_EQ(n.body["job"]["warnings"], 3);
  EXPECT_EQ(n.body["job"]["reason"], "3 files could not be read");
  EXPECT_EQ(n.body["job"]["snapshot_id"], "abc123");
  EXPECT_EQ(n.body["job"]["started"], "2026-03-01T01:59:56.000Z");
  EXPECT_EQ(n.body["job"]["finished"], "2026-03-01T02:00:00.000Z");
  EXPECT_DOUBLE_EQ(n.body["job"]["duration"].get<double>(), 4.0);
  EXPECT_EQ(mail_subject(n), "[arca] COMPLETED (PARTIAL): plan nightly-db");
  EXPECT_EQ(mail_subject(note("nightly-db", JobState::Failed, 1, kT0)), "[arca] FAILED: plan nightly-db");
  EXPECT_EQ(mail_subject(note("weekly", JobState::Failed, 1, kT0, JobKind::Verify)),
            "[arca] VERIFICATION FAILED: plan weekly");
  // Failures of a plan share a key (deduplicated); other events are keyed by their job.
  EXPECT_EQ(note("p", JobState::Failed, 1, kT0).dedup_key, note("p", JobState::Failed, 2, kT0 + 60).dedup_key);
  EXPECT_NE(note("p", JobState::Failed, 1, kT0).dedup_key, note("q", JobState::Failed, 1, kT0).dedup_key);
  EXPECT_NE(note("p", JobState::Success, 1, kT0).dedup_key, note("p", JobState::Success, 2, kT0).dedup_key);
}

TEST(ServerNotifier, WebhookDeliveredWithSignature) {
  TempDir dir;
  std::string secret_file = dir.path + "/hook.secret";
  std::ofstream(secret_file) << "s3cret-key\n";
  HookServer hook;
  Logged logged;
  {
    Notifier notifier(hooks_config({{hook.url(), {}}}, secret_file), fast(logged));
    notifier.post(note("nightly-db", JobState::Failed, 7, kT0));
    ASSERT_TRUE(notifier.wait_idle(10));
    EXPECT_EQ(notifier.stats().delivered, 1u);
  }
  auto got = hook.got();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].event, "BACKUP_JOB_FAILED");
  EXPECT_EQ(got[0].content_type, "application/json");
  EXPECT_EQ(got[0].delivery.size(), 32u);
  EXPECT_EQ(got[0].signature, "sha256=" + hmac_hex("s3cret-key", got[0].body));
  auto body = nlohmann::json::parse(got[0].body);
  EXPECT_EQ(body["event"], "BACKUP_JOB_FAILED");
  EXPECT_EQ(body["plan"], "nightly-db");
  EXPECT_EQ(body["job"]["id"], 7);
  EXPECT_EQ(logged.all(), "");
}

TEST(ServerNotifier, RetriesAfterServerErrorsThenSucceeds) {
  HookServer hook({500, 429, 200});
  Logged logged;
  Notifier notifier(hooks_config({{hook.url(), {}}}), fast(logged));
  notifier.post(note("p", JobState::Failed, 1, kT0));
  ASSERT_TRUE(notifier.wait_idle(10));
  auto got = hook.got();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].delivery, got[2].delivery);  // one delivery, attempted three times
  EXPECT_EQ(got[0].body, got[2].body);
  EXPECT_TRUE(got[0].signature.empty());  // no secret configured: unsigned
  auto s = notifier.stats();
  EXPECT_EQ(s.delivered, 1u);
  EXPECT_EQ(s.retried, 2u);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_NE(logged.all().find("HTTP 500"), std::string::npos);
}

TEST(ServerNotifier, NoRetryOnClientError) {
  HookServer hook({400, 400});
  Logged logged;
  Notifier notifier(hooks_config({{hook.url() + "?token=do-not-log", {}}}), fast(logged));
  notifier.post(note("p", JobState::Failed, 1, kT0));
  ASSERT_TRUE(notifier.wait_idle(10));
  EXPECT_EQ(hook.got().size(), 1u);
  auto s = notifier.stats();
  EXPECT_EQ(s.delivered, 0u);
  EXPECT_EQ(s.failed, 1u);
  std::string log = logged.all();
  EXPECT_NE(log.find("HTTP 400; not retried"), std::string::npos) << log;
  EXPECT_EQ(log.find("do-not-log"), std::string::npos) << log;  // a URL's path and query may be its secret
  EXPECT_EQ(log.find("/hook"), std::string::npos) << log;
}

TEST(ServerNotifier, FailuresDeduplicatedUntilRecovery) {
  HookServer hook;
  Logged logged;
  Notifier notifier(hooks_config({{hook.url(), {}}}), fast(logged));
  notifier.post(note("p", JobState::Failed, 1, kT0));
  notifier.post(note("p", JobState::Failed, 2, kT0 + 60));        // same plan, inside the hour
  notifier.post(note("q", JobState::Failed, 3, kT0 + 60));        // another plan
  notifier.post(note("p", JobState::Failed, 4, kT0 + 3600 + 1));  // the window passed
  notifier.post(note("p", JobState::Success, 5, kT0 + 3700));     // recovery
  notifier.post(note("p", JobState::Failed, 6, kT0 + 3760));      // fails again: sent at once
  notifier.post(note("p", JobState::Success, 7, kT0 + 3800));     // recovery again
  notifier.post(note("p", JobState::Success, 8, kT0 + 3900));     // a plain success: no recovery
  ASSERT_TRUE(notifier.wait_idle(10));
  std::vector<int64_t> ids;
  for (const auto& r : hook.got()) {
    auto b = nlohmann::json::parse(r.body);
    ids.push_back(b["job"]["id"]);
  }
  std::sort(ids.begin(), ids.end());  // one thread delivers in order, but the order is not the point
  EXPECT_EQ(ids, (std::vector<int64_t>{1, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(notifier.stats().deduplicated, 1u);
  for (const auto& r : hook.got()) {
    auto b = nlohmann::json::parse(r.body);
    EXPECT_EQ(b.value("recovered", false), b["job"]["id"] == 5 || b["job"]["id"] == 7) << r.body;
  }
  // A job whose state is posted twice is sent once.
  notifier.post(note("p", JobState::Running, 9, kT0 + 4000));
  notifier.post(note("p", JobState::Running, 9, kT0 + 4000));
  ASSERT_TRUE(notifier.wait_idle(10));
  EXPECT_EQ(hook.got().size(), 8u);
  EXPECT_EQ(notifier.stats().deduplicated, 2u);
}

TEST(ServerNotifier, EventFilterSelectsWebhooks) {
  HookServer all, failures;
  Logged logged;
  Notifier notifier(hooks_config({{all.url(), {}}, {failures.url(), {"BACKUP_JOB_FAILED", "PRUNE_JOB_FAILED"}}}),
                    fast(logged));
  notifier.post(note("p", JobState::Running, 1, kT0));
  notifier.post(note("p", JobState::Failed, 1, kT0 + 10));
  notifier.post(note("v", JobState::Failed, 2, kT0 + 20, JobKind::Verify));
  notifier.post(note("p", JobState::Success, 3, kT0 + 30));  // a recovery reaches who asked for FAILED
  notifier.post(note("p", JobState::Success, 4, kT0 + 40));  // a plain success does not
  ASSERT_TRUE(notifier.wait_idle(10));
  EXPECT_EQ(all.got().size(), 5u);
  std::vector<std::string> events;
  for (const auto& r : failures.got())
    events.push_back(r.event + "/" + nlohmann::json::parse(r.body)["job"]["id"].dump());
  std::sort(events.begin(), events.end());
  EXPECT_EQ(events, (std::vector<std::string>{"BACKUP_JOB_COMPLETED/3", "BACKUP_JOB_FAILED/1"}));
}

TEST(ServerNotifier, UnreachableReceiverNeverThrowsAndStopIsBounded) {
  Logged logged;
  auto opt = fast(logged);
  opt.backoff_s = 0.5;
  opt.flush_s = 0.3;
  int port = free_port();  // nothing listens there
  auto start = std::chrono::steady_clock::now();
  {
    Notifier notifier(hooks_config({{"http://127.0.0.1:" + std::to_string(port) + "/x", {}}}), opt);
    notifier.post(note("p", JobState::Failed, 1, kT0));
  }
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(took, 2.0);
  std::string log = logged.all();
  EXPECT_NE(log.find("no answer"), std::string::npos) << log;
  EXPECT_NE(log.find("not sent"), std::string::npos) << log;  // the retry left when stopping
}

// --- e-mail ---------------------------------------------------------------------------------

namespace {

// A real SMTP server: Debian's aiosmtpd writing each message into a Maildir.
class SmtpServer {
 public:
  explicit SmtpServer(const std::string& maildir) : maildir_(maildir) {
    auto [rc, out] = run_program({kPython, "-c", "import aiosmtpd"});
    if (rc != 0)
      throw std::runtime_error("python3-aiosmtpd is missing (" + std::string(kPython) +
                               " cannot import aiosmtpd): run scripts/setup.sh");
    port_ = free_port();
    proc_ = std::make_unique<Subprocess>(
        std::vector<std::string>{kPython, "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:" + std::to_string(port_), "-c",
                                 "aiosmtpd.handlers.Mailbox", maildir},
        Subprocess::Stdout::Null);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (true) {
      try {
        tcp_connect("127.0.0.1", port_, 200, "aiosmtpd");
        return;
      } catch (const Error&) {
        if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("aiosmtpd did not start");
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
      }
    }
  }
  int port() const { return port_; }
  // The messages received, as the Maildir holds them.
  std::vector<std::string> messages() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(maildir_ + "/new", ec)) {
      std::ifstream f(e.path());
      std::stringstream s;
      s << f.rdbuf();
      out.push_back(s.str());
    }
    return out;
  }

 private:
  static constexpr const char* kPython = "/usr/bin/python3";  // Debian's, where python3-aiosmtpd installs
  std::string maildir_;
  int port_ = 0;
  std::unique_ptr<Subprocess> proc_;
};

struct Mail {
  std::map<std::string, std::string> headers;
  std::string body;
};

Mail parse_mail(const std::string& text) {
  Mail m;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) break;
    auto colon = line.find(':');
    if (colon != std::string::npos)
      m.headers[line.substr(0, colon)] = line.substr(line.find_first_not_of(' ', colon + 1));
  }
  std::stringstream rest;
  rest << in.rdbuf();
  m.body = rest.str();
  return m;
}

std::shared_ptr<const ServerConfig> mail_config(int port, const std::string& digest_at = "") {
  auto c = std::make_shared<ServerConfig>();
  EmailConfig e;
  e.smtp_host = "127.0.0.1";
  e.smtp_port = port;
  e.from = "Arca <arca@example.org>";
  e.to = {"ops@example.org", "dba@example.org"};
  e.digest_at = digest_at;
  c->email = e;
  return c;
}

}  // namespace

TEST(ServerNotifier, MailDeliveredOverSmtp) {
  TempDir dir;
  SmtpServer smtp(dir.path + "/mail");
  Logged logged;
  Notifier notifier(mail_config(smtp.port()), fast(logged));
  auto failed = job("nightly-db", JobState::Failed, 9, kT0);
  failed.reason = "could not connect to PostgreSQL at db:5432";
  notifier.post(*notification_for(failed));
  notifier.post(*notification_for(job("nightly-db", JobState::Failed, 10, kT0 + 60)));  // deduplicated
  ASSERT_TRUE(notifier.wait_idle(10));
  EXPECT_EQ(notifier.stats().delivered, 1u) << logged.all();
  auto msgs = smtp.messages();
  ASSERT_EQ(msgs.size(), 1u);
  Mail m = parse_mail(msgs[0]);
  EXPECT_EQ(m.headers["Subject"], "[arca] FAILED: plan nightly-db");
  EXPECT_EQ(m.headers["From"], "Arca <arca@example.org>");
  EXPECT_EQ(m.headers["To"], "ops@example.org, dba@example.org");
  EXPECT_EQ(m.headers["Date"], "Sun, 01 Mar 2026 02:00:00 +0000");
  EXPECT_EQ(m.headers["X-MailFrom"], "arca@example.org");  // the envelope, as aiosmtpd saw it
  EXPECT_EQ(m.headers["X-RcptTo"], "ops@example.org, dba@example.org");
  EXPECT_EQ(m.headers["Message-ID"].front(), '<');
  EXPECT_NE(m.body.find("BACKUP_JOB_FAILED"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("Reason:      could not connect to PostgreSQL at db:5432"), std::string::npos) << m.body;
  EXPECT_EQ(m.body.find("Job:         10"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("Job:         9 (trigger schedule, attempt 1)"), std::string::npos) << m.body;
}

TEST(ServerNotifier, DailyDigestCollectsEventsIntoOneMail) {
  TempDir dir;
  SmtpServer smtp(dir.path + "/mail");
  Logged logged;
  Notifier notifier(mail_config(smtp.port(), "06:00"), fast(logged));
  double day = 1772323200;        // 2026-03-01T00:00:00Z
  notifier.tick(day + 5 * 3600);  // 05:00: the first digest is at 06:00 today
  notifier.post(note("nightly-db", JobState::Failed, 1, day + 5 * 3600 + 60));
  notifier.post(note("nightly-db", JobState::Failed, 2, day + 5 * 3600 + 120));  // listed: a digest has repeats
  notifier.post(note("nightly-db", JobState::Success, 3, day + 5 * 3600 + 180));
  notifier.post(note("files", JobState::Success, 4, day + 5 * 3600 + 240));
  notifier.tick(day + 5 * 3600 + 1800);  // 05:30: not yet
  ASSERT_TRUE(notifier.wait_idle(10));
  EXPECT_TRUE(smtp.messages().empty());
  notifier.tick(day + 6 * 3600 + 1);   // 06:00:01: the digest
  notifier.tick(day + 6 * 3600 + 30);  // sent once
  ASSERT_TRUE(notifier.wait_idle(10));
  auto msgs = smtp.messages();
  ASSERT_EQ(msgs.size(), 1u) << logged.all();
  Mail m = parse_mail(msgs[0]);
  EXPECT_NE(m.headers["Subject"].find("[arca] daily digest: 4 events, 2 failures"), std::string::npos)
      << m.headers["Subject"];
  EXPECT_NE(m.body.find("BACKUP_JOB_FAILED: 2"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("BACKUP_JOB_COMPLETED: 2"), std::string::npos) << m.body;
  for (int id = 1; id <= 4; ++id)
    EXPECT_NE(m.body.find("job " + std::to_string(id)), std::string::npos) << id << "\n" << m.body;
  EXPECT_LT(m.body.find("job 1"), m.body.find("job 4"));  // oldest first
  // The next digest is tomorrow's and holds only what came after this one.
  notifier.post(note("files", JobState::Failed, 5, day + 7 * 3600));
  notifier.tick(day + 23 * 3600);
  ASSERT_TRUE(notifier.wait_idle(10));
  EXPECT_EQ(smtp.messages().size(), 1u);
  notifier.tick(day + 30 * 3600);
  ASSERT_TRUE(notifier.wait_idle(10));
  msgs = smtp.messages();
  ASSERT_EQ(msgs.size(), 2u);
  std::string both = msgs[0] + msgs[1];
  EXPECT_NE(both.find("daily digest: 1 event, 1 failure"), std::string::npos) << both;
}
