// The notifier: decides what to send (event filters, deduplication, the daily digest) in the
// caller's thread, and delivers on its own thread, retrying with backoff, so that neither a slow
// receiver nor a broken one ever holds up or fails the scheduler.
#include "server/notifier.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

#include "crypto/random.h"
#include "server/notification_text.h"
#include "server/notify_channels.h"
#include "util/bytes.h"
#include "util/host.h"

namespace arca::server {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxQueued = 1000;         // deliveries waiting; more are dropped (and counted)
constexpr size_t kMaxDigestEvents = 20000;  // events kept for the next digest; the oldest go first
constexpr size_t kMaxDedupKeys = 1024;      // above this, keys older than the window are forgotten

struct Delivery {
  bool mail = false;
  WebhookConfig hook;  // copies: a reload does not change what was already decided
  EmailConfig email;
  std::string event, id, payload;  // payload: the JSON body, or the whole mail message
  std::string target;              // for the log: "webhook https://host", "mail to a@b"
  int attempt = 0;
  Clock::time_point due;
};

struct Sent {
  double at = 0;
  std::string plan;
  bool failure = false;
};

// Empty: every event. A recovery (COMPLETED after FAILED) also reaches whoever asked for FAILED.
bool wanted(const std::vector<std::string>& filter, const Notification& n) {
  if (filter.empty()) return true;
  auto has = [&](const std::string& e) { return std::find(filter.begin(), filter.end(), e) != filter.end(); };
  return has(n.event) || (n.body.value("recovered", false) && has(failure_event_of(n.event)));
}

std::string new_id() {
  Bytes b(16);
  random_bytes(b);
  return to_hex(b);
}

// "HH:MM" -> seconds after midnight; -1 when malformed (the configuration check reports it).
int64_t parse_hhmm(const std::string& s) {
  int h = 0, m = 0;
  char extra = 0;
  if (s.size() != 5 || std::sscanf(s.c_str(), "%2d:%2d%c", &h, &m, &extra) != 2 || h > 23 || m > 59 || h < 0 || m < 0)
    return -1;
  return int64_t(h) * 3600 + m * 60;
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", s);
  return buf;
}

}  // namespace

struct Notifier::Impl {
  NotifierOptions opt;
  std::string host = local_hostname();
  WebhookSender webhook;  // used by the delivery thread only

  std::mutex mu;
  std::condition_variable wake, idle;
  std::shared_ptr<const ServerConfig> config;
  std::vector<Delivery> queue;
  bool busy = false, stopping = false;
  Clock::time_point flush_deadline;
  std::map<std::string, Sent> sent;  // dedup key -> the last time it was sent
  std::deque<Notification> digest;   // events since the last digest
  std::string digest_at;             // the setting next_digest was computed for
  double next_digest = 0;
  NotifierStats stats;
  std::thread thread;

  void log(EventLevel level, const std::string& msg) const {
    if (opt.log) return opt.log(level, msg);
    std::fprintf(stderr, "arca notifier: %s\n", msg.c_str());
  }

  // Under mu. Returns a line for the log when the queue is full.
  std::string enqueue(Delivery d) {
    if (queue.size() >= kMaxQueued) {
      ++stats.failed;
      return "notification " + d.event + " to " + d.target + " dropped: " + std::to_string(kMaxQueued) +
             " deliveries are already waiting (is the receiver down?)";
    }
    d.id = new_id();
    d.due = Clock::now();
    queue.push_back(std::move(d));
    return "";
  }

  Delivery mail_delivery(const EmailConfig& email, const std::string& event, const std::string& subject,
                         const std::string& text, double time) {
    Delivery d;
    d.mail = true;
    d.email = email;
    d.event = event;
    d.payload = compose_mail(email, subject, text, time, host);
    d.target = "mail to " + std::to_string(email.to.size()) + " recipient(s) via " + email.smtp_host;
    return d;
  }

  DeliveryResult attempt(const Delivery& d, double timeout_s) {
    if (d.mail) return send_mail(d.email, d.payload, timeout_s);
    return webhook.send(d.hook, d.event, d.id, d.payload, timeout_s);
  }

  void run() {
    std::unique_lock lk(mu);
    while (true) {
      auto now = Clock::now();
      if (stopping) {
        // Past the flush deadline, or not due before it: given up now rather than waited for.
        auto late = [&](const Delivery& d) { return now >= flush_deadline || d.due > flush_deadline; };
        size_t dropped = size_t(std::count_if(queue.begin(), queue.end(), late));
        if (dropped) {
          std::erase_if(queue, late);
          stats.failed += dropped;
          idle.notify_all();
          lk.unlock();
          log(EventLevel::Warning, "the server is stopping: " + std::to_string(dropped) + " notification " +
                                       (dropped == 1 ? "delivery" : "deliveries") + " not sent");
          lk.lock();
          continue;
        }
        if (queue.empty()) return;
      }
      if (queue.empty()) {
        wake.wait(lk);
        continue;
      }
      auto next = std::min_element(queue.begin(), queue.end(),
                                   [](const Delivery& a, const Delivery& b) { return a.due < b.due; });
      if (next->due > now) {
        wake.wait_until(lk, stopping ? std::min(next->due, flush_deadline) : next->due);
        continue;
      }
      Delivery d = std::move(*next);
      queue.erase(next);
      busy = true;
      double timeout = opt.timeout_s;
      if (stopping) timeout = std::clamp(std::chrono::duration<double>(flush_deadline - now).count(), 0.1, timeout);
      lk.unlock();

      ++d.attempt;
      DeliveryResult r;
      try {
        r = attempt(d, timeout);
      } catch (const std::exception& e) {  // an unreadable secret: the operator must fix it first
        r = {false, false, e.what()};
      }

      std::string msg;
      EventLevel level = EventLevel::Warning;
      lk.lock();
      if (d.attempt > 1) ++stats.retried;
      std::string what = "notification " + d.event + " (delivery " + d.id + ") to " + d.target + ": ";
      if (r.ok) {
        ++stats.delivered;
      } else if (r.retry && d.attempt < opt.max_attempts) {
        double wait = opt.backoff_s * std::pow(2.0, d.attempt - 1);
        msg = what + r.message + "; attempt " + std::to_string(d.attempt) + " of " + std::to_string(opt.max_attempts) +
              ", next in " + seconds_text(wait);
        d.due = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(wait));
        queue.push_back(std::move(d));
      } else {
        ++stats.failed;
        level = EventLevel::Error;
        msg = what + r.message +
              (r.retry ? "; given up after " + std::to_string(d.attempt) + " attempts" : "; not retried");
      }
      if (!msg.empty()) {
        lk.unlock();
        log(level, msg);
        lk.lock();
      }
      busy = false;  // only now: a caller of wait_idle sees the outcome logged too
      idle.notify_all();
    }
  }
};

Notifier::Notifier(std::shared_ptr<const ServerConfig> config, NotifierOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->opt = std::move(options);
  impl_->opt.max_attempts = std::max(1, impl_->opt.max_attempts);
  impl_->config = std::move(config);
  impl_->thread = std::thread([this] { impl_->run(); });
}

Notifier::~Notifier() {
  {
    std::lock_guard lk(impl_->mu);
    impl_->stopping = true;
    impl_->flush_deadline =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(impl_->opt.flush_s));
  }
  impl_->wake.notify_all();
  impl_->thread.join();
}

void Notifier::reload(std::shared_ptr<const ServerConfig> config) {
  std::lock_guard lk(impl_->mu);
  impl_->config = std::move(config);
}

void Notifier::post(Notification n) {
  Impl& m = *impl_;
  std::vector<std::string> problems;
  try {
    std::lock_guard lk(m.mu);
    if (!m.config) return;
    const ServerConfig& cfg = *m.config;
    std::string plan = n.body.value("plan", "");
    // A completion ends the plan's failure run: say so, and let its next failure through at once.
    if (is_completion_event(n.event)) {
      size_t ended = std::erase_if(m.sent, [&](const auto& kv) { return kv.second.failure && kv.second.plan == plan; });
      if (ended) n.body["recovered"] = true;
    }
    // The digest lists every event, repeats included: it is one mail a day whatever happens.
    bool digest = cfg.email && !cfg.email->digest_at.empty();
    if (digest && wanted(cfg.email->events, n)) {
      if (m.digest.size() >= kMaxDigestEvents) m.digest.pop_front();
      m.digest.push_back(n);
    }
    if (!n.dedup_key.empty()) {
      auto it = m.sent.find(n.dedup_key);
      if (it != m.sent.end() && n.time - it->second.at < m.opt.dedup_window_s) {
        ++m.stats.deduplicated;
        return;
      }
      m.sent[n.dedup_key] = {n.time, plan, is_failure_event(n.event)};
      if (m.sent.size() > kMaxDedupKeys)
        std::erase_if(m.sent, [&](const auto& kv) { return n.time - kv.second.at >= m.opt.dedup_window_s; });
    }
    std::string body = n.body.dump();
    for (const auto& hook : cfg.webhooks) {
      if (!wanted(hook.events, n)) continue;
      Delivery d;
      d.hook = hook;
      d.event = n.event;
      d.payload = body;
      d.target = "webhook " + redacted_url(hook.url);
      problems.push_back(m.enqueue(std::move(d)));
    }
    if (cfg.email && !digest && wanted(cfg.email->events, n))
      problems.push_back(m.enqueue(m.mail_delivery(*cfg.email, n.event, mail_subject(n), mail_text(n), n.time)));
  } catch (const std::exception& e) {
    problems.push_back("notification " + n.event + " not sent: " + e.what());
  }
  m.wake.notify_all();
  for (const auto& p : problems)
    if (!p.empty()) m.log(EventLevel::Error, p);
}

void Notifier::tick(double now) {
  Impl& m = *impl_;
  std::string problem;
  try {
    std::lock_guard lk(m.mu);
    if (!m.config || !m.config->email || m.config->email->digest_at.empty()) {
      m.next_digest = 0;
      return;
    }
    const EmailConfig& email = *m.config->email;
    int64_t at = parse_hhmm(email.digest_at);
    if (at < 0) return;
    double day = std::floor(now / 86400) * 86400;
    double next = day + double(at);
    while (next <= now) next += 86400;
    if (email.digest_at != m.digest_at || m.next_digest == 0) {
      // The first time of day at or after now (a restart at 10:00 does not send 08:00's again).
      m.digest_at = email.digest_at;
      m.next_digest = next - 86400 >= now ? next - 86400 : next;
    }
    if (now < m.next_digest) return;
    m.next_digest = next;
    std::vector<Notification> events;
    for (auto& n : m.digest)
      if (n.time > now - 86400) events.push_back(std::move(n));
    m.digest.clear();
    std::stable_sort(events.begin(), events.end(), [](const auto& a, const auto& b) { return a.time < b.time; });
    problem = m.enqueue(m.mail_delivery(email, "DIGEST", digest_subject(events, m.host),
                                        digest_text(events, now - 86400, now, m.host), now));
  } catch (const std::exception& e) {
    problem = std::string("the daily notification digest was not sent: ") + e.what();
  }
  m.wake.notify_all();
  if (!problem.empty()) m.log(EventLevel::Error, problem);
}

NotifierStats Notifier::stats() const {
  std::lock_guard lk(impl_->mu);
  return impl_->stats;
}

bool Notifier::wait_idle(double timeout_s) {
  std::unique_lock lk(impl_->mu);
  return impl_->idle.wait_for(lk, std::chrono::duration<double>(timeout_s),
                              [&] { return impl_->queue.empty() && !impl_->busy; });
}

}  // namespace arca::server
