#include "sources/kafka/kafka_backup.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <optional>
#include <set>

#include "repo/blob_writer.h"
#include "repo/config.h"
#include "repo/publish.h"
#include "repo/source_snapshot.h"
#include "sources/common/blob_pool.h"
#include "sources/kafka/kafka_archive.h"
#include "sources/kafka/record_codec.h"
#include "util/cancel.h"
#include "util/clock.h"
#include "util/error.h"

namespace arca {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The message's fields as a record view (no copies); `r`'s header vector is reused.
void to_record(const rd_kafka_message_t* m, KafkaRecordView& r) {
  r.offset = m->offset;
  rd_kafka_timestamp_type_t tt;
  r.timestamp = rd_kafka_message_timestamp(m, &tt);
  r.timestamp_type = uint8_t(tt);
  r.key.reset();
  r.value.reset();
  if (m->key) r.key.emplace(static_cast<const char*>(m->key), m->key_len);
  if (m->payload) r.value.emplace(static_cast<const char*>(m->payload), m->len);
  r.headers.clear();
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs) {
    const char* name;
    const void* val;
    size_t size;
    for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; i++)
      r.headers.emplace_back(
          name,
          val ? std::optional<std::string_view>(std::string_view(static_cast<const char*>(val), size)) : std::nullopt);
  }
}

// A partition being archived by this run.
struct Live {
  std::string topic;
  int partition = 0;
  int64_t expected = -1;   // next offset wanted
  int64_t target = -1;     // one-shot: the high watermark when it was first reached (-1: not yet known)
  bool contacted = false;  // a record or end-of-partition has been seen
  bool done = false;
  bool stuck = false;  // the log no longer reaches the archive's position: not archived further
  // The blob being filled.
  Bytes buf;
  KafkaBlobEntry cur;
  // Blobs handed to the pool, not yet in the archive.
  struct Pending {
    KafkaBlobEntry entry;
    bool new_segment;
    std::shared_future<StoredBlob> blob;
  };
  std::vector<Pending> pending;
  bool seg_open = false;  // the partition's last segment was started by this run
  uint64_t seg_bytes = 0;
  int64_t expected_at_checkpoint = -1;
};

class Archiver {
 public:
  Archiver(Repository& repo, const KafkaBackupOptions& opts, ProgressCounters& progress, const std::atomic<bool>& stop,
           const KafkaLog& log)
      : repo_(repo),
        opts_(opts),
        progress_(progress),
        stop_(stop),
        log_(log),
        writer_(repo),
        pool_(repo, writer_, opts.threads),
        client_(opts.kafka, KafkaClient::Kind::Consumer, consumer_settings()) {
    name_ = opts.name.empty() ? "kafka-" + opts.kafka.brokers.substr(0, opts.kafka.brokers.find(',')) : opts.name;
    try {
      topic_re_ = std::regex(opts.topics);
      if (!opts.groups_regex.empty()) group_re_ = std::regex(opts.groups_regex);
    } catch (const std::regex_error& e) {
      throw Error(ErrorKind::Usage, std::string("bad regular expression for --topics/--groups: ") + e.what());
    }
  }

  KafkaBackupResult run() {
    started_ = Clock::now();
    if (auto prev = latest_source_snapshot(repo_, "kafka", name_)) {
      archive_ = KafkaArchive::load(repo_, *prev);
      parent_ = prev->id;
      log_("continuing from recovery point " + prev->id.short_hex() + " (" + std::to_string(archive_.records()) +
           " records archived)");
    }
    refresh_topics(true);
    if (lives_.empty() && archive_.topics.empty())
      throw Error(ErrorKind::NotFound,
                  "no topic on the cluster at " + opts_.kafka.brokers + " matches '" + opts_.topics + "'");
    // Admin calls a cluster may not answer (or answer slowly) run beside the archiving.
    start_admin();
    assign();
    auto last_cp = Clock::now(), last_progress = Clock::now();
    std::unique_ptr<rd_kafka_queue_t, KafkaDeleter> queue(rd_kafka_queue_get_consumer(client_.get()));
    std::vector<rd_kafka_message_t*> batch(1024);
    while (true) {
      // A cancel abandons what was archived since the last recovery point (none is written);
      // `stop` ends the run normally, with a recovery point.
      check_cancel(opts_.cancel, "Kafka backup");
      if (stop_) break;
      if (!opts_.continuous && all_done()) break;
      // Messages in batches: one queue operation for many records.
      ssize_t n = rd_kafka_consume_batch_queue(queue.get(), 20, batch.data(), batch.size());
      std::vector<KafkaMessage> owned;  // all of them released, even if one fails
      for (ssize_t i = 0; i < n; i++) owned.emplace_back(batch[size_t(i)]);
      bool progressed = false;
      for (auto& m : owned)
        if (handle(m.get())) progressed = true;
      if (progressed) last_progress = Clock::now();
      if (opts_.continuous && since(last_cp) >= opts_.interval_s) {
        checkpoint(false);
        refresh_topics(false);
        last_cp = Clock::now();
      }
      if (!opts_.continuous && since(last_progress) > opts_.stall_timeout_s) {
        std::string behind;
        for (const auto& [k, l] : lives_)
          if (!l.done)
            behind += (behind.empty() ? "" : ", ") + l.topic + "/" + std::to_string(l.partition) +
                      (l.contacted ? " at offset " + std::to_string(l.expected) + " of " + std::to_string(l.target)
                                   : " (nothing received)");
        result_.partial = true;
        result_.warnings.push_back("no progress for " + std::to_string(int(opts_.stall_timeout_s)) +
                                   " s (a broker down?); stopped with partitions behind: " + behind +
                                   ". What was archived is recorded; run the backup again to continue");
        break;
      }
    }
    check_cancel(opts_.cancel, "Kafka backup");
    checkpoint(!opts_.continuous);  // one-shot: always a recovery point, even if nothing was new
    return result_;
  }

 private:
  static std::map<std::string, std::string> consumer_settings() {
    return {{"group.id", "arca-archiver"},  // needed by the consumer API; never joined or committed
            {"enable.auto.commit", "false"},  {"enable.auto.offset.store", "false"},
            {"enable.partition.eof", "true"}, {"auto.offset.reset", "earliest"},
            {"check.crcs", "true"},           {"queued.min.messages", "200000"},
            {"fetch.wait.max.ms", "100"}};
  }

  // Recorded in the result (printed at the end); in continuous mode also logged at once.
  void warn(const std::string& w) {
    result_.warnings.push_back(w);
    if (opts_.continuous) log_(w);
  }

  // Records arrive in runs from one partition: the last answer is kept (map nodes are stable)
  // rather than building a key string and searching the map for every record.
  Live* live_for(const char* topic, int partition) {
    if (last_live_ && last_live_->partition == partition && last_live_->topic == topic) return last_live_;
    auto it = lives_.find({topic, partition});
    if (it == lives_.end()) return nullptr;
    return last_live_ = &it->second;
  }

  // Reads the topic list; new topics and partitions join the archive.
  void refresh_topics(bool first) {
    std::vector<TopicInfo> found;
    try {
      found = client_.topics(topic_re_);
    } catch (const Error& e) {
      if (first) throw;
      log_(std::string("cannot refresh the topic list: ") + e.what());
      return;
    }
    bool changed = false;
    std::set<std::string> present;
    for (const auto& t : found) {
      present.insert(t.name);
      auto& ta = archive_.topics[t.name];
      ta.name = t.name;
      ta.missing_since.clear();
      if (ta.partitions != t.partitions) {
        if (!first && ta.partitions)
          log_("topic " + t.name + " now has " + std::to_string(t.partitions) + " partitions");
        ta.partitions = t.partitions;
      }
      ta.replication_factor = t.replication_factor;
      for (int p = 0; p < t.partitions; p++) {
        if (lives_.count({t.name, p})) continue;
        changed = true;
        auto& arc = ta.parts[p];
        arc.partition = p;
        start_partition(t.name, arc);
      }
    }
    for (auto& [name, ta] : archive_.topics)
      if (!present.count(name) && ta.missing_since.empty() && std::regex_match(name, topic_re_)) {
        ta.missing_since = now_rfc3339();
        std::string w = "topic " + name + " is no longer on the cluster; its archive is kept as it was";
        warn(w);
        for (auto& [k, l] : lives_)
          if (l.topic == name) l.done = true;
      }
    // Each partition fills its own blob: with many partitions, smaller blobs keep memory bounded.
    blob_size_ = std::clamp<size_t>((32u << 20) / std::max<size_t>(1, lives_.size()), 64u << 10, opts_.blob_size);
    if (changed && !first) assign();
  }

  // No request to the cluster here: a partition whose leader is down must not hold up the
  // others. Watermarks come from the fetch responses (get_watermark_offsets) once data flows.
  void start_partition(const std::string& topic, KafkaPartitionArchive& arc) {
    Live l;
    l.topic = topic;
    l.partition = arc.partition;
    if (arc.next_offset >= 0) {
      result_.resumed_partitions++;
      l.expected = arc.next_offset;
    }
    l.expected_at_checkpoint = l.expected;
    lives_[{topic, arc.partition}] = std::move(l);
  }

  // The first record or end-of-partition seen for a partition: fixes the one-shot target at the
  // high watermark of that moment, and checks that the log still reaches the archive's position.
  void first_contact(Live& l, KafkaPartitionArchive& arc, int64_t offset) {
    l.contacted = true;
    int64_t lo = -1, hi = -1;
    rd_kafka_get_watermark_offsets(client_.get(), l.topic.c_str(), l.partition, &lo, &hi);
    if (hi >= 0) arc.high_watermark = l.target = hi;
    if (lo >= 0) arc.log_start = lo;
    if (l.expected >= 0 && hi >= 0 && hi < l.expected) {
      // The partition now ends before what was archived: the topic was deleted and recreated
      // (or truncated). Its offsets mean something else now; archiving it on would mix two logs.
      warn(l.topic + "/" + std::to_string(l.partition) + " now ends at offset " + std::to_string(hi) +
           ", before the archive's next offset " + std::to_string(l.expected) +
           ": the topic was recreated or truncated. It is not archived further under this source; archive it under "
           "a new --name");
      l.done = l.stuck = true;
      result_.partial = true;
      return;
    }
    if (l.expected < 0 && offset > 0 && opts_.start == "earliest") {
      arc.gaps.push_back({0, offset - 1, "before the log start when archiving began"});
      l.expected = offset;
    }
    if (l.expected < 0) l.expected = offset;
  }

  // Offsets [expected, offset) hold no record for us: deleted by retention before we got there
  // (a loss, recorded as a gap and reported), or never there (compaction, transaction markers).
  void skip_to(Live& l, KafkaPartitionArchive& arc, int64_t offset) {
    if (l.expected < 0 || offset <= l.expected) return;
    int64_t lo = -1, hi = -1;
    rd_kafka_get_watermark_offsets(client_.get(), l.topic.c_str(), l.partition, &lo, &hi);
    if (lo > l.expected) {
      int64_t to = std::min(lo, offset) - 1;
      KafkaGap g{l.expected, to, "deleted by the cluster (retention) before it was archived"};
      arc.gaps.push_back(g);
      warn(l.topic + "/" + std::to_string(l.partition) + ": offsets " + std::to_string(g.from) + ".." +
           std::to_string(g.to) + " were deleted by the cluster before they were archived (recorded as a gap)");
      l.expected = to + 1;
    }
    if (offset > l.expected) arc.absent += uint64_t(offset - l.expected);
    l.expected = offset;
  }

  void assign() {
    KafkaPartitions list(rd_kafka_topic_partition_list_new(int(lives_.size())));
    for (const auto& [k, l] : lives_) {
      if ((l.done && !opts_.continuous) || l.stuck) continue;
      auto* tp = rd_kafka_topic_partition_list_add(list.get(), l.topic.c_str(), l.partition);
      tp->offset =
          l.expected >= 0 ? l.expected : (opts_.start == "latest" ? RD_KAFKA_OFFSET_END : RD_KAFKA_OFFSET_BEGINNING);
    }
    rd_kafka_resp_err_t e = rd_kafka_assign(client_.get(), list.get());
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) throw_kafka(e, "cannot assign the partitions to archive");
  }

  bool all_done() const {
    for (const auto& [k, l] : lives_)
      if (!l.done) return false;
    return true;
  }

  // Returns true if the message moved the archive forward.
  bool handle(rd_kafka_message_t* m) {
    const char* topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "";
    Live* l = m->rkt ? live_for(topic, m->partition) : nullptr;
    if (m->err) {
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (!l) return false;
        auto& arc = archive_.topics[l->topic].parts[l->partition];
        if (!l->contacted) first_contact(*l, arc, m->offset);
        if (l->stuck) return false;
        skip_to(*l, arc, m->offset);  // trailing offsets without records
        // One-shot: caught up. (The end may lie below the high watermark while a transaction
        // is open: the consumer stops at the last stable offset.)
        if (!opts_.continuous) l->done = true;
        return true;
      }
      if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
          m->err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION) {
        if (l && !l->done) {
          std::string w = std::string(topic) + "/" + std::to_string(m->partition) +
                          " disappeared while being archived (" + rd_kafka_err2str(m->err) +
                          "); what was archived is kept";
          warn(w);
          l->done = true;
          archive_.topics[l->topic].missing_since = now_rfc3339();
        }
        return false;
      }
      log_(std::string("Kafka: ") + rd_kafka_message_errstr(m));
      return false;
    }
    if (!l) return false;
    auto& arc = archive_.topics[l->topic].parts[l->partition];
    if (!l->contacted) first_contact(*l, arc, m->offset);
    if (l->stuck) return false;
    if (l->expected >= 0 && m->offset < l->expected) return false;  // already archived: exactly once
    skip_to(*l, arc, m->offset);
    KafkaRecordView& r = record_;
    to_record(m, r);
    size_t before = l->buf.size();
    encode_record(r, l->buf);
    if (l->cur.records == 0) l->cur.first = r.offset;
    l->cur.last = r.offset;
    l->cur.records++;
    if (r.timestamp >= 0) {
      l->cur.min_ts = std::min(l->cur.min_ts, r.timestamp);
      l->cur.max_ts = std::max(l->cur.max_ts, r.timestamp);
    }
    l->expected = r.offset + 1;
    progress_.files_done++;
    progress_.bytes_done += l->buf.size() - before;
    if (l->buf.size() >= blob_size_) submit(*l);
    if (!opts_.continuous && l->target >= 0 && l->expected >= l->target) l->done = true;
    return true;
  }

  void submit(Live& l) {
    if (l.buf.empty()) return;
    l.cur.bytes = l.buf.size();
    bool new_segment = !l.seg_open || l.seg_bytes >= opts_.segment_size;
    if (new_segment) {
      l.seg_open = true;
      l.seg_bytes = 0;
    }
    l.seg_bytes += l.buf.size();
    l.pending.push_back({l.cur, new_segment, pool_.store(std::move(l.buf))});
    l.buf = Bytes();
    l.cur = KafkaBlobEntry();
  }

  void start_admin() {
    std::vector<std::string> names;
    for (const auto& [n, t] : archive_.topics)
      if (t.missing_since.empty()) names.push_back(n);
    configs_ = std::async(std::launch::async, [this, names] {
      std::string err;
      auto c = client_.topic_configs(names, opts_.admin_timeout_ms, err);
      return std::make_pair(c, err);
    });
    groups_ = opts_.groups;
    if (group_re_) {
      group_list_ = std::async(std::launch::async, [this] {
        std::string err;
        auto g = client_.list_groups(opts_.admin_timeout_ms, err);
        return std::make_pair(g, err);
      });
    }
  }

  void collect_admin() {
    if (configs_.valid()) {
      auto [c, err] = configs_.get();
      for (auto& [name, t] : archive_.topics) {
        if (c && c->count(name)) {
          t.config = (*c)[name];
          t.config_error.clear();
        } else if (t.config.is_null()) {
          t.config_error = err.empty() ? "the cluster did not describe this topic" : err;
        }
      }
      if (!c) {
        std::string w = "topic configuration not recorded: " + err + " (restores then use the target's defaults)";
        warn(w);
      }
    }
    if (group_list_.valid()) {
      auto [g, err] = group_list_.get();
      if (g) {
        for (const auto& name : *g)
          if (std::regex_match(name, *group_re_)) groups_.push_back(name);
      } else {
        std::string w = "consumer groups could not be listed (" + err + "); name them with --group";
        warn(w);
      }
    }
  }

  void fetch_group_offsets() {
    std::vector<std::pair<std::string, int>> parts;
    for (const auto& [name, t] : archive_.topics)
      if (t.missing_since.empty())
        for (const auto& [p, _] : t.parts) parts.emplace_back(name, p);
    for (const auto& g : std::set<std::string>(groups_.begin(), groups_.end())) {
      try {
        json entry = json::object();
        for (const auto& [tp, off] : client_.committed(g, parts, opts_.admin_timeout_ms))
          if (off >= 0) entry[tp.first][std::to_string(tp.second)] = off;
        archive_.groups[g] = entry;
      } catch (const Error& e) {
        log_("committed offsets of group " + g + " not refreshed: " + e.what());
      }
    }
  }

  void checkpoint(bool force) {
    collect_admin();
    bool changed = false;
    for (auto& [k, l] : lives_) {
      submit(l);
      auto& arc = archive_.topics[l.topic].parts[l.partition];
      for (auto& p : l.pending) {
        StoredBlob b;
        try {
          b = p.blob.get();
        } catch (const Error& e) {
          throw Error(e.kind(), "storing records of " + l.topic + "/" + std::to_string(l.partition) + ": " + e.what());
        }
        p.entry.id = b.id;
        p.entry.sha256 = b.sha256;
        if (p.new_segment) arc.segments.emplace_back();
        arc.segments.back().add(p.entry);
        arc.records += p.entry.records;
        arc.bytes += p.entry.bytes;
        result_.records += p.entry.records;
        result_.bytes += p.entry.bytes;
        changed = true;
      }
      l.pending.clear();
      if (l.expected != l.expected_at_checkpoint) changed = true;
      if (l.expected >= 0) arc.next_offset = l.expected;
      l.expected_at_checkpoint = l.expected;
    }
    json groups_before = archive_.groups;
    // Group offsets: at every recovery point of a one-shot run, at most every 5 s when continuous.
    if (!groups_.empty() &&
        (force || stop_ || groups_fetched_.time_since_epoch().count() == 0 || since(groups_fetched_) >= 5)) {
      fetch_group_offsets();
      groups_fetched_ = Clock::now();
    }
    if (archive_.groups != groups_before) changed = true;
    if (!changed && !force) return;
    Id root = archive_.store(repo_, writer_);
    writer_.checkpoint();  // everything the recovery point needs is durable before it is written
    Snapshot snap;
    snap.source_kind = "kafka";
    snap.source_name = name_;
    snap.paths = {opts_.kafka.brokers};
    snap.tags = opts_.tags;
    snap.parent = parent_;
    snap.tree = root;
    json next = json::object(), topics = json::array();
    uint64_t segments = 0;
    int64_t newest = -1;
    for (const auto& [name, t] : archive_.topics) {
      topics.push_back(name);
      for (const auto& [p, a] : t.parts) {
        next[name][std::to_string(p)] = a.next_offset;
        segments += a.segments.size();
        for (const auto& s : a.segments) newest = std::max(newest, s.max_ts);
      }
    }
    snap.metadata = {{"topics", typed_meta("json", topics)},
                     {"records", typed_meta("int", archive_.records())},
                     {"next_offsets", typed_meta("json", next)},
                     {"groups", typed_meta("json", archive_.groups.size())},
                     {"newest_record_time", typed_meta("time", newest >= 0 ? json(newest) : json())}};
    snap.stats.files = snap.stats.files_new = segments;
    snap.stats.bytes = archive_.bytes();
    snap.stats.bytes_read = result_.bytes;
    snap.stats.blobs_added = writer_.blobs_added();
    snap.stats.bytes_added = writer_.bytes_added();
    snap.stats.stored_added = writer_.stored_bytes();
    snap.stats.duration_s = since(started_);
    for (const auto& w : result_.warnings) snap.warnings.push_back({"kafka", w});
    snap.partial = result_.partial;
    // No cancel token here: the run decides what a stop means (a continuous archive ends with this point).
    publish_point(repo_, writer_, snap, {opts_.host, ""});
    parent_ = snap.id;
    result_.recovery_points.push_back(snap.id.hex());
    result_.last = snap;
    if (opts_.on_point) opts_.on_point(snap);
    if (opts_.continuous)
      log_("recovery point " + snap.id.short_hex() + ": " + std::to_string(archive_.records()) + " records archived");
  }

  Repository& repo_;
  const KafkaBackupOptions& opts_;
  ProgressCounters& progress_;
  const std::atomic<bool>& stop_;
  const KafkaLog& log_;
  BlobWriter writer_;
  BlobPool pool_;
  KafkaClient client_;
  std::string name_;
  std::regex topic_re_;
  std::optional<std::regex> group_re_;
  KafkaArchive archive_;
  std::optional<Id> parent_;
  std::map<std::pair<std::string, int>, Live> lives_;
  Live* last_live_ = nullptr;  // live_for's last answer
  std::vector<std::string> groups_;
  std::future<std::pair<std::optional<KafkaClient::TopicConfigs>, std::string>> configs_;
  std::future<std::pair<std::optional<std::vector<std::string>>, std::string>> group_list_;
  KafkaBackupResult result_;
  KafkaRecordView record_;  // reused for every message
  size_t blob_size_ = 1 << 20;
  Clock::time_point started_, groups_fetched_{};
};

}  // namespace

KafkaBackupResult kafka_backup(Repository& repo, const KafkaBackupOptions& opts, ProgressCounters& progress,
                               const std::atomic<bool>& stop, const KafkaLog& log) {
  if (opts.start != "earliest" && opts.start != "latest")
    throw Error(ErrorKind::Usage, "--start is 'earliest' or 'latest', not '" + opts.start + "'");
  Archiver a(repo, opts, progress, stop, log);
  return a.run();
}

}  // namespace arca
