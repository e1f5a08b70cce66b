// Stream jobs: PostgreSQL WAL streamed into the archive (ops::wal_stream) or a continuous Kafka
// archive (ops::kafka_backup, continuous), until the job is cancelled. While they run, their
// state goes into the runtime every half second (connected, durable progress, caught up, bytes);
// a stream that ends without a cancel is FAILED, and the scheduler restarts it.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "ops/kafka_backup.h"
#include "ops/pg_wal.h"
#include "repo/wal_names.h"
#include "server/job_steps.h"

namespace arca::server::jobs {

namespace {

// Calls `f` every `period` on its own thread until stopped (stop() or the destructor).
class Poller {
 public:
  Poller(std::chrono::milliseconds period, std::function<void()> f)
      : f_(std::move(f)), thread_([this, period] { loop(period); }) {}
  ~Poller() { stop(); }
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;
  void stop() {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void loop(std::chrono::milliseconds period) {
    std::unique_lock lk(mu_);
    while (!cv_.wait_for(lk, period, [this] { return stop_; })) {
      lk.unlock();
      f_();
      lk.lock();
    }
  }
  std::function<void()> f_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the rest is ready
};

constexpr std::chrono::milliseconds kPollEvery{500};
constexpr double kStreamRetentionEvery_s = 3600;

// The stream's entry in the runtime: started now, not yet connected.
void stream_started(Runtime& rt, const std::string& source) {
  double now = now_s();
  rt.update_stream(source, [&](StreamStatus& x) {
    if (x.started_at > 0) ++x.restarts;  // started before in this server's life
    x.connected = false;
    x.started_at = now;
    x.bytes = 0;
    x.lag_bytes = 0;
  });
}

void stream_ended(Runtime& rt, const std::string& source, const std::string& error) {
  rt.update_stream(source, [&](StreamStatus& x) {
    x.connected = false;
    if (!error.empty()) x.last_error = error;
  });
}

void stream_postgres(JobScope& s, JobOutcome& out) {
  const std::string& name = s.source->name;
  WalStreamStatus st;
  ops::WalStreamRequest req;
  req.options.conninfo = pg_conninfo(*s.source);
  if (!s.source->stream.slot.empty()) req.options.slot = s.source->stream.slot;
  // A configured stream is supervised for good: its slot is created when missing (the server
  // then keeps WAL until Arca has stored it, which is the point of streaming).
  req.options.create_slot = true;
  req.status = &st;
  std::mutex mu;
  std::string last_line;  // the stream's last log line: after a reconnect, why it broke
  req.log = [&](const std::string& m) {
    s.ctx.info("stream.event", m, {{"source", name}});
    std::lock_guard lk(mu);
    last_line = m;
  };
  uint64_t stored = 0, reconnects = 0;
  auto poll = [&] {
    double now = now_s();
    uint64_t stored_now = st.segments + st.pieces, reconnects_now = st.reconnects;
    uint64_t flushed = st.flushed_lsn, server = st.server_lsn;
    bool streaming = st.streaming;
    std::string why;
    if (reconnects_now != reconnects) {
      std::lock_guard lk(mu);
      why = last_line;
    }
    s.runtime.update_stream(name, [&](StreamStatus& x) {
      x.connected = streaming;
      x.bytes = st.received;
      if (stored_now != stored) x.last_progress_at = now;  // a piece or segment made durable
      x.lag_bytes = server > flushed ? server - flushed : 0;
      if (streaming && server > 0 && flushed >= server) x.caught_up_at = now;
      if (!why.empty()) x.last_error = why;
      if (streaming && reconnects_now == reconnects && stored_now != stored) x.last_error.clear();
    });
    if (stored_now != stored) s.runtime.notify_written(s.repo.name());  // replicas get the WAL within seconds
    stored = stored_now;
    reconnects = reconnects_now;
  };
  ops::WalStreamResult r;
  {
    Poller poller(kPollEvery, poll);
    r = ops::wal_stream(s.repo.get(), req, s.ctx);
  }
  poll();
  out.result = r.to_json();
  out.bytes_added = r.received;
  std::string summary = "received " + std::to_string(r.received) + " bytes of WAL, stored " +
                        std::to_string(r.segments) + " segments and " + std::to_string(r.pieces) +
                        " pieces; archived up to " + format_lsn(r.flushed_lsn);
  if (s.ctx.cancel.cancelled()) throw Error(ErrorKind::Cancelled, "WAL stream of " + name + " stopped: " + summary);
  throw Error(ErrorKind::Generic, "the WAL stream of " + name + " ended by itself (" + summary + ")");
}

// ops::kafka_backup reports a continuous archive's progress as "kafka.backup.progress" lines; the
// ones that matter here are the recovery points written (data made durable) and client errors.
class KafkaProgress : public EventSink {
 public:
  KafkaProgress(EventSink* next, Runtime& rt, std::string source) : next_(next), rt_(rt), source_(std::move(source)) {}
  void emit(const Event& e) override {
    if (next_) next_->emit(e);
    if (e.code != "kafka.backup.progress") return;
    double now = now_s();
    bool point = e.message.rfind("recovery point ", 0) == 0;
    bool error = e.message.rfind("Kafka: ", 0) == 0 || e.message.rfind("cannot refresh", 0) == 0;
    rt_.update_stream(source_, [&](StreamStatus& x) {
      if (point) {
        x.last_progress_at = now;
        x.connected = true;
        x.last_error.clear();
      }
      if (error) x.last_error = e.message;
    });
  }

 private:
  EventSink* next_;
  Runtime& rt_;
  std::string source_;
};

void stream_kafka(JobScope& s, JobOutcome& out) {
  const SourceConfig& src = *s.source;
  ops::KafkaBackupRequest req;
  req.kafka.brokers = join_brokers(src);
  req.topics = src.topics;
  req.groups = src.groups;
  req.name = src.name;
  req.tags = src.tags;
  req.host = source_host(src);
  req.continuous = true;
  req.interval_s = src.stream.interval_s;
  // Each point reaches the catalog as it appears (through the runtime): the live RPO follows the
  // archive. The plan's retention runs between two points (on this thread) once an hour.
  double retention_at = 0;
  req.on_point = [&s, &retention_at](const Snapshot& snap) {
    s.runtime.add_point(point_record(snap, s.repo.name(), s.config.sources));
    if (!s.plan.retention || now_s() - retention_at < kStreamRetentionEvery_s) return;
    retention_at = now_s();
    JobOutcome r;
    apply_retention(s, r);
    if (r.points_complete) s.runtime.replace_points(s.repo.name(), std::move(r.points));
  };
  // The job's events pass through, and the runtime learns from them on the way.
  KafkaProgress progress(s.ctx.events, s.runtime, src.name);
  struct Restore {
    JobContext& ctx;
    EventSink* events;
    ~Restore() { ctx.events = events; }
  } restore{s.ctx, s.ctx.events};
  s.ctx.events = &progress;
  uint64_t bytes0 = s.ctx.progress.bytes_done;
  auto poll = [&] {
    uint64_t b = s.ctx.progress.bytes_done - bytes0;
    s.runtime.update_stream(src.name, [&](StreamStatus& x) {
      if (b > x.bytes) x.connected = true;  // records arrive
      x.bytes = b;
    });
  };
  ops::KafkaBackupOpResult r;
  Repository& repo = s.repo.get();
  {
    Poller poller(kPollEvery, poll);
    r = ops::kafka_backup(repo, req, s.ctx);
  }
  poll();
  out.result = r.to_json();
  out.snapshot_id = r.last.id.hex();
  out.bytes_added = r.last.stats.stored_added;
  std::set<std::string> written(r.recovery_points.begin(), r.recovery_points.end());
  if (!written.empty())
    for (const Snapshot& snap : repo.list_snapshots())
      if (written.count(snap.id.hex())) out.points.push_back(point_record(snap, s.repo.name(), s.config.sources));
  std::string summary = std::to_string(r.records) + " records (" + std::to_string(r.bytes) + " bytes) archived in " +
                        std::to_string(r.recovery_points.size()) + " recovery point(s)";
  // Stopping is a cancel: the archive writes a last recovery point and returns normally.
  if (s.ctx.cancel.cancelled())
    throw Error(ErrorKind::Cancelled, "Kafka archive of " + src.name + " stopped: " + summary);
  throw Error(ErrorKind::Generic, "the Kafka archive of " + src.name + " ended by itself (" + summary + ")");
}

}  // namespace

void run_stream(JobScope& s, JobOutcome& out) {
  const SourceConfig& src = *s.source;
  if (src.kind != SourceKind::Postgres && src.kind != SourceKind::Kafka)
    throw Error(ErrorKind::Usage, "source '" + src.name + "' is a " + std::string(to_string(src.kind)) +
                                      " source: only PostgreSQL (WAL) and Kafka sources stream");
  stream_started(s.runtime, src.name);
  try {
    if (src.kind == SourceKind::Postgres)
      stream_postgres(s, out);
    else
      stream_kafka(s, out);
  } catch (const Error& e) {
    stream_ended(s.runtime, src.name, e.kind() == ErrorKind::Cancelled ? "" : e.what());
    throw;
  } catch (const std::exception& e) {
    stream_ended(s.runtime, src.name, e.what());
    throw;
  }
}

}  // namespace arca::server::jobs
