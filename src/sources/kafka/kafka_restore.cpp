#include "sources/kafka/kafka_restore.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <thread>

#include "repo/source_snapshot.h"
#include "sources/kafka/kafka_archive.h"
#include "sources/kafka/record_codec.h"
#include "util/cancel.h"
#include "util/error.h"

namespace arca {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// What was sent to one source partition, as runs of consecutive old offsets ([first, count]);
// the idempotent producer reports deliveries per partition in the order records were produced,
// so the n-th report of a partition is the n-th offset sent.
struct SentRuns {
  std::vector<std::pair<int64_t, int64_t>> runs;
  size_t run = 0;
  int64_t in_run = 0;
  void add(int64_t offset) {
    if (!runs.empty() && runs.back().first + runs.back().second == offset)
      runs.back().second++;
    else
      runs.emplace_back(offset, 1);
  }
  int64_t next() {
    int64_t o = runs[run].first + in_run;
    if (++in_run == runs[run].second) run++, in_run = 0;
    return o;
  }
};

// Delivery reports, per source partition: what was sent, and the runs of the offset map, which
// grow at their ends. A vector indexed by partition (touched for every record); only sent_to(),
// called before a partition's records are produced, resizes it: the delivery callback, which
// runs inside rd_kafka_poll/flush on the producing thread, only indexes.
struct Deliveries {
  struct Partition {
    SentRuns sent;
    std::vector<std::array<int64_t, 4>> runs;
  };
  std::vector<Partition> parts;  // archives hold partitions 0..kMaxKafkaPartition-1 only
  uint64_t failed = 0;
  std::string first_error;
  uint64_t delivered = 0;
  SentRuns& sent_to(int partition) {
    if (size_t(partition) >= parts.size()) parts.resize(size_t(partition) + 1);
    return parts[size_t(partition)].sent;
  }
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* d = static_cast<Deliveries*>(opaque);
  int src_partition = int(reinterpret_cast<intptr_t>(m->_private));
  auto& part = d->parts[size_t(src_partition)];  // sized when the record was sent
  int64_t old_offset = part.sent.next();
  if (m->err) {
    if (d->failed++ == 0) d->first_error = rd_kafka_err2str(m->err);
    return;
  }
  d->delivered++;
  auto& runs = part.runs;
  if (!runs.empty()) {
    auto& r = runs.back();
    if (r[0] + r[2] == old_offset && r[1] + r[2] == m->offset && r[3] == m->partition) {
      r[2]++;
      return;
    }
  }
  runs.push_back({old_offset, m->offset, 1, m->partition});
}

bool wanted(const std::vector<int>& list, int p) {
  return list.empty() || std::find(list.begin(), list.end(), p) != list.end();
}

struct ReplayItem {
  int partition, target_partition;
  Id blob;
  std::string what;
};

// One producer and the partitions it replays.
struct Worker {
  Deliveries d;
  KafkaClient producer;
  uint64_t records = 0, bytes = 0;
  std::exception_ptr error;

  explicit Worker(const KafkaOptions& k) : producer(k, KafkaClient::Kind::Producer, settings(), conf(&d)) {}

  static std::map<std::string, std::string> settings() {
    // No auto-creation: a missing topic is created with the recorded partitions and settings.
    return {{"enable.idempotence", "true"},
            {"allow.auto.create.topics", "false"},
            {"linger.ms", "20"},
            {"batch.num.messages", "10000"},
            {"queue.buffering.max.messages", "200000"},
            {"queue.buffering.max.kbytes", "65536"},
            {"message.timeout.ms", "300000"}};
  }
  static rd_kafka_conf_t* conf(Deliveries* d) {
    rd_kafka_conf_t* c = rd_kafka_conf_new();
    rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
    rd_kafka_conf_set_opaque(c, d);
    return c;
  }
  void reset() {
    d = Deliveries();
    records = bytes = 0;
  }

  // Produces the records of `items` (blobs read one ahead) and waits for their delivery.
  void replay(Repository& repo, const std::vector<ReplayItem>& items, const std::string& target,
              const KafkaRestoreOptions& opts, ProgressCounters& progress) {
    auto fetch = [&repo](const ReplayItem& it) {
      try {
        return repo.read_blob(it.blob);
      } catch (const Error& e) {
        throw Error(e.kind(), it.what + ": " + e.what());
      }
    };
    // One topic handle for all records: naming the topic per record costs a lookup under a lock.
    std::unique_ptr<rd_kafka_topic_t, decltype(&rd_kafka_topic_destroy)> topic(
        rd_kafka_topic_new(producer.get(), target.c_str(), nullptr), &rd_kafka_topic_destroy);
    if (!topic) throw_kafka(rd_kafka_last_error(), "opening topic " + target + " for producing");
    std::future<Bytes> next;
    if (!items.empty()) next = std::async(std::launch::async, fetch, std::cref(items[0]));
    KafkaRecordView r;
    for (size_t i = 0; i < items.size() && !d.failed && !cancel_requested(opts.cancel); i++) {
      Bytes data = next.get();
      if (i + 1 < items.size()) next = std::async(std::launch::async, fetch, std::cref(items[i + 1]));
      const int pn = items[i].partition, target_p = items[i].target_partition;
      SentRuns& sent = d.sent_to(pn);
      size_t pos = 0;
      // Progress is shared by the workers: counted per blob, not per record (cache-line traffic).
      uint64_t seen = 0, value_bytes = 0;
      while (pos < data.size() && !d.failed) {
        decode_record_view(data, pos, items[i].what, r);
        seen++;
        if (opts.from_offset >= 0 && r.offset < opts.from_offset) continue;
        if (opts.to_offset >= 0 && r.offset > opts.to_offset) continue;
        if (opts.from_time_ms && r.timestamp < *opts.from_time_ms) continue;
        if (opts.to_time_ms && r.timestamp > *opts.to_time_ms) continue;
        rd_kafka_headers_t* hdrs = nullptr;
        if (!r.headers.empty()) {
          hdrs = rd_kafka_headers_new(r.headers.size());
          for (const auto& [hn, hv] : r.headers)
            rd_kafka_header_add(hdrs, hn.data(), ssize_t(hn.size()), hv ? hv->data() : nullptr,
                                hv ? ssize_t(hv->size()) : 0);
        }
        sent.add(r.offset);
        void* opaque = reinterpret_cast<void*>(intptr_t(pn));
        const void* key = r.key ? r.key->data() : nullptr;
        size_t key_len = r.key ? r.key->size() : 0;
        void* value = r.value ? const_cast<char*>(r.value->data()) : nullptr;
        size_t value_len = r.value ? r.value->size() : 0;
        int64_t ts = r.timestamp >= 0 ? r.timestamp : 0;  // 0: now
        while (true) {
          rd_kafka_resp_err_t e =
              rd_kafka_producev(producer.get(), RD_KAFKA_V_RKT(topic.get()), RD_KAFKA_V_PARTITION(target_p),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key_len),
                                RD_KAFKA_V_VALUE(value, value_len), RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_HEADERS(hdrs),
                                RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
          if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
          if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(producer.get(), 50);
            continue;
          }
          if (hdrs) rd_kafka_headers_destroy(hdrs);
          throw_kafka(e, "producing to " + target + "/" + std::to_string(target_p));
        }
        records++;
        bytes += key_len + value_len;
        value_bytes += value_len;
        if (records % 1024 == 0) rd_kafka_poll(producer.get(), 0);  // serve delivery reports
      }
      progress.files_done += seen;
      progress.bytes_done += value_bytes;
    }
    if (next.valid()) next.wait();
    while (rd_kafka_outq_len(producer.get()) > 0 && !d.failed) {
      if (cancel_requested(opts.cancel)) {  // what is in flight gets half a second to be delivered (and counted)
        rd_kafka_flush(producer.get(), 500);
        break;
      }
      rd_kafka_poll(producer.get(), 100);
    }
  }
};
}  // namespace

std::optional<std::pair<int, int64_t>> translate_offset(const json& runs, int64_t committed) {
  if (runs.empty()) return std::nullopt;
  for (const auto& r : runs) {
    int64_t old_first = r[0], new_first = r[1], count = r[2];
    int tp = r[3];
    if (committed < old_first) return std::make_pair(tp, new_first);  // the next restored record
    if (committed < old_first + count) return std::make_pair(tp, new_first + (committed - old_first));
  }
  const auto& last = runs.back();  // past everything restored: the end of what was restored
  return std::make_pair(last[3].get<int>(), last[1].get<int64_t>() + last[2].get<int64_t>());
}

KafkaRestoreResult kafka_restore(Repository& repo, const KafkaRestoreOptions& opts, ProgressCounters& progress) {
  auto started = Clock::now();
  Snapshot snap = find_source_snapshot(repo, opts.snapshot, "kafka", opts.source, "arca kafka backup");
  KafkaArchive archive = KafkaArchive::load(repo, snap);
  std::vector<std::string> names = opts.topics;
  if (names.empty())
    for (const auto& [n, _] : archive.topics) names.push_back(n);
  for (const auto& n : names)
    if (!archive.topics.count(n))
      throw Error(ErrorKind::NotFound,
                  "recovery point " + snap.id.short_hex() + " has no archive of topic '" + n + "'");
  if (!opts.to_topic.empty() && names.size() != 1)
    throw Error(ErrorKind::Usage, "--to-topic renames one topic: choose it with --topic (or use --topic-prefix)");

  KafkaRestoreResult res;
  // Replay runs on one producer per core, each owning a share of the partitions (so each
  // partition keeps one idempotent producer and its order).
  unsigned nworkers = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
  std::vector<std::unique_ptr<Worker>> workers;
  for (unsigned w = 0; w < nworkers; w++) workers.push_back(std::make_unique<Worker>(opts.kafka));
  KafkaClient& producer = workers[0]->producer;

  // Targets first: every check before the first record is sent.
  struct Plan {
    std::string source, target;
    int target_partitions = 0;
    std::vector<int> parts;
  };
  std::vector<Plan> plans;
  for (const auto& name : names) {
    const auto& t = archive.topics[name];
    Plan p{name, opts.to_topic.empty() ? opts.topic_prefix + name : opts.to_topic, 0, {}};
    for (const auto& [pn, _] : t.parts)
      if (wanted(opts.partitions, pn)) p.parts.push_back(pn);
    int needed = p.parts.empty() ? 0 : p.parts.back() + 1;
    auto info = producer.topic(p.target);
    if (!info) {
      int rf = opts.replication_factor > 0 ? opts.replication_factor
                                           : (t.replication_factor > 0 ? t.replication_factor : -1);
      std::map<std::string, std::string> cfg;
      if (t.config.is_object())
        for (const auto& [k, v] : t.config.items()) cfg[k] = v.get<std::string>();
      producer.create_topic(p.target, std::max(t.partitions, needed), rf, cfg);
      res.created_topics.push_back(p.target);
      for (int i = 0; i < 100 && !(info = producer.topic(p.target)); i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (!info)
        throw Error(ErrorKind::Generic, "topic " + p.target + " was created but does not appear in the metadata");
    }
    p.target_partitions = info->partitions;
    if (info->partitions < needed && !opts.remap_partitions)
      throw Error(ErrorKind::Usage,
                  "topic " + p.target + " has " + std::to_string(info->partitions) + " partitions, the archive of " +
                      name + " has " + std::to_string(needed) +
                      ": records would change partition (and key order). Add partitions to the target, "
                      "restore fewer with --partition, or allow --remap-partitions (partition p goes to p mod " +
                      std::to_string(info->partitions) + ")");
    if (info->partitions < needed)
      res.warnings.push_back("partitions of " + name + " remapped onto " + std::to_string(info->partitions) +
                             " partitions of " + p.target + " (p mod " + std::to_string(info->partitions) + ")");
    for (int pn : p.parts) progress.files_total += t.parts.at(pn).records;
    plans.push_back(std::move(p));
  }
  progress.totals_known = true;

  for (const auto& plan : plans) {
    check_cancel(opts.cancel, "Kafka restore");
    const auto& t = archive.topics[plan.source];
    // The blobs to replay (the index skips those outside the range); each worker takes them
    // round-robin across its partitions, so that its producer fills batches for all at once.
    std::vector<std::vector<std::vector<ReplayItem>>> shares(workers.size());
    for (size_t k = 0; k < plan.parts.size(); k++) {
      int pn = plan.parts[k];
      auto& list = shares[k % workers.size()].emplace_back();
      for (const auto& seg : t.parts.at(pn).segments)
        for (size_t bi = 0; bi < seg.blobs.size(); bi++) {
          const auto& b = seg.blobs[bi];
          if (opts.from_offset >= 0 && b.last < opts.from_offset) continue;
          if (opts.to_offset >= 0 && b.first > opts.to_offset) continue;
          if (opts.from_time_ms && b.max_ts < *opts.from_time_ms && b.max_ts != INT64_MIN) continue;
          if (opts.to_time_ms && b.min_ts > *opts.to_time_ms && b.min_ts != INT64_MAX) continue;
          list.push_back({pn, pn % plan.target_partitions, b.id,
                          "topics/" + plan.source + "/" + std::to_string(pn) + "/" + seg.name() + " (blob " +
                              std::to_string(bi) + ")"});
        }
    }
    std::vector<std::thread> threads;
    for (size_t w = 0; w < workers.size(); w++) {
      std::vector<ReplayItem> items;
      for (size_t round = 0, added = 1; added; round++) {
        added = 0;
        for (auto& list : shares[w])
          if (round < list.size()) items.push_back(std::move(list[round])), added++;
      }
      threads.emplace_back([&, w, items = std::move(items)] {
        try {
          workers[w]->replay(repo, items, plan.target, opts, progress);
        } catch (...) {
          workers[w]->error = std::current_exception();
        }
      });
    }
    for (auto& th : threads) th.join();
    if (cancel_requested(opts.cancel)) {
      uint64_t delivered = res.records;
      for (auto& wk : workers) delivered += wk->d.delivered;
      throw Error(ErrorKind::Cancelled, "Kafka restore cancelled: " + std::to_string(delivered) +
                                            " records delivered (to " + plan.target +
                                            " and the topics restored before it); restoring again duplicates "
                                            "those: restore into a new topic, or limit the range with --from-offset");
    }
    json parts = json::object();
    for (auto& wk : workers) {
      if (wk->error) std::rethrow_exception(wk->error);
      Deliveries& d = wk->d;
      if (d.failed)
        throw Error(ErrorKind::Generic, std::to_string(d.failed) + " record(s) could not be delivered to " +
                                            plan.target + ": " + d.first_error + "\n  " + std::to_string(d.delivered) +
                                            " were; restoring again duplicates those: restore into a new topic, or "
                                            "limit the range with --from-offset");
      for (size_t pn = 0; pn < d.parts.size(); pn++)
        if (!d.parts[pn].runs.empty()) parts[std::to_string(pn)] = d.parts[pn].runs;
      res.records += wk->records;
      res.bytes += wk->bytes;
      wk->reset();
    }
    res.offset_map[plan.source] = {{"target", plan.target}, {"partitions", parts}};
  }

  if (opts.restore_groups) {
    std::vector<std::string> groups = opts.groups;
    if (groups.empty())
      for (const auto& [g, _] : archive.groups.items()) groups.push_back(g);
    for (const auto& g : groups) {
      if (!archive.groups.contains(g)) {
        res.warnings.push_back("group " + g + " has no recorded offsets");
        continue;
      }
      // Target partition → new offset; remapped partitions keep the lowest (re-read, never skip).
      std::map<std::pair<std::string, int>, int64_t> commit;
      json report = json::object();
      for (const auto& [topic, parts] : archive.groups[g].items()) {
        if (!res.offset_map.contains(topic)) continue;
        const auto& map = res.offset_map[topic];
        std::string target = map["target"];
        for (const auto& [p, committed] : parts.items()) {
          if (!map["partitions"].contains(p)) continue;
          auto t = translate_offset(map["partitions"][p], committed.get<int64_t>());
          if (!t) continue;
          auto key = std::make_pair(target, t->first);
          commit[key] = commit.count(key) ? std::min(commit[key], t->second) : t->second;
          report[topic][p] = {
              {"old", committed}, {"new", t->second}, {"target", target + "/" + std::to_string(t->first)}};
        }
      }
      if (commit.empty()) continue;
      std::string name = opts.group_prefix + g;
      KafkaClient c(opts.kafka, KafkaClient::Kind::Consumer, {{"group.id", name}, {"enable.auto.commit", "false"}});
      KafkaPartitions list(rd_kafka_topic_partition_list_new(int(commit.size())));
      for (const auto& [tp, off] : commit)
        rd_kafka_topic_partition_list_add(list.get(), tp.first.c_str(), tp.second)->offset = off;
      rd_kafka_resp_err_t e = rd_kafka_commit(c.get(), list.get(), 0);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        throw_kafka(e,
                    "committing the translated offsets of group " + name +
                        " (stop the group's consumers first; a group with active members refuses commits from others)");
      for (int i = 0; i < list->cnt; i++)
        if (list->elems[i].err)
          throw_kafka(list->elems[i].err, "committing the translated offset of group " + name + " for " +
                                              list->elems[i].topic + "/" + std::to_string(list->elems[i].partition));
      res.groups[name] = report;
    }
  }
  res.duration_s = std::chrono::duration<double>(Clock::now() - started).count();
  return res;
}

}  // namespace arca
