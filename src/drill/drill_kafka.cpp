#include "drill/drill_kafka.h"

#include <openssl/evp.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <map>
#include <memory>

#include "crypto/hash.h"
#include "ops/kafka_restore.h"
#include "sources/kafka/kafka_archive.h"
#include "sources/kafka/kafka_client.h"
#include "sources/kafka/record_codec.h"
#include "util/cancel.h"
#include "util/error.h"

namespace arca::drill {

using nlohmann::json;

ScratchKafka::ScratchKafka(int brokers) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  // The handle only hosts the cluster: it connects nowhere. Only critical messages pass, as for
  // every Arca Kafka client.
  rd_kafka_conf_set(conf, "bootstrap.servers", "", err, sizeof err);
  rd_kafka_conf_set_log_cb(conf, [](const rd_kafka_t*, int level, const char* fac, const char* buf) {
    if (level <= 2) std::fprintf(stderr, "librdkafka %s: %s\n", fac, buf);
  });
  rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk_) {
    rd_kafka_conf_destroy(conf);
    throw Error(ErrorKind::Generic, std::string("cannot start the drill's scratch Kafka cluster: ") + err);
  }
  mc_ = rd_kafka_mock_cluster_new(rk_, brokers);
  if (!mc_) {
    rd_kafka_destroy(rk_);
    throw Error(ErrorKind::Generic, "cannot start the drill's scratch Kafka cluster (librdkafka's mock cluster)");
  }
  bootstrap_ = rd_kafka_mock_cluster_bootstraps(mc_);
}

void ScratchKafka::create_topic(const std::string& name, int partitions) {
  if (rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc_, name.c_str(), std::max(partitions, 1), 1))
    throw Error(ErrorKind::Generic, "the drill's scratch Kafka cluster cannot create topic " + name + ": " +
                                        rd_kafka_err2str(err));
}

ScratchKafka::~ScratchKafka() {
  rd_kafka_mock_cluster_destroy(mc_);
  rd_kafka_destroy(rk_);
}

namespace {

// SHA-256 over a stream of fields, each with its length (or a null marker), so that two
// different sequences of records never share an encoding. Buffered: records are small.
class Sha256Stream {
 public:
  Sha256Stream() : ctx_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
      throw Error(ErrorKind::Generic, "SHA-256 failed");
  }
  void u64(uint64_t v) { buf_.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void field(std::optional<std::string_view> v) {
    u64(v ? v->size() : UINT64_MAX);
    if (v) buf_.append(v->data(), v->size());
    if (buf_.size() >= (1 << 16)) flush();
  }
  std::string hex() {
    flush();
    Id id;
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), id.b.data(), &len) != 1) throw Error(ErrorKind::Generic, "SHA-256 failed");
    return id.hex();
  }

 private:
  void flush() {
    if (EVP_DigestUpdate(ctx_.get(), buf_.data(), buf_.size()) != 1) throw Error(ErrorKind::Generic, "SHA-256 failed");
    buf_.clear();
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
  std::string buf_;
};

// One partition's records, in order: `content` over key, value and headers; `times` over the
// timestamps by position, except where the archive holds none that replay keeps (no timestamp,
// or not a CreateTime): those records are given the time of their replay.
struct PartitionSums {
  uint64_t records = 0;
  std::string content, times;
  std::vector<uint64_t> untimed;    // archive side: positions without a kept timestamp, rising
  std::vector<int64_t> read_times;  // target side: each record's CreateTime (-1: another type)
  std::string problem;              // archive damage, or why the target could not be read
};

// The target side's `times`, over the positions the archive side hashed.
std::string target_times(const PartitionSums& target, const PartitionSums& archive) {
  Sha256Stream times;
  size_t skip = 0;
  for (uint64_t i = 0; i < target.read_times.size(); i++) {
    while (skip < archive.untimed.size() && archive.untimed[skip] < i) skip++;
    if (skip < archive.untimed.size() && archive.untimed[skip] == i) continue;
    times.u64(i), times.u64(target.read_times[i] >= 0 ? uint64_t(target.read_times[i]) : UINT64_MAX);
  }
  return times.hex();
}

using Key = std::pair<std::string, int>;  // archived topic, partition

// The archive side: every restored partition's records, read from the repository.
std::map<Key, PartitionSums> archive_sums(Repository& repo, const KafkaArchive& archive, const json& offset_map,
                                          const CancelToken* cancel) {
  std::map<Key, PartitionSums> out;
  for (const auto& [topic, map] : offset_map.items()) {
    for (const auto& [pn, arc] : archive.topics.at(topic).parts) {
      if (!map["partitions"].contains(std::to_string(pn))) continue;
      PartitionSums& s = out[{topic, pn}];
      Sha256Stream content, times;
      KafkaRecordView r;
      for (const auto& seg : arc.segments)
        for (size_t bi = 0; bi < seg.blobs.size() && s.problem.empty(); bi++) {
          check_cancel(cancel, "the drill's Kafka validation");
          const auto& b = seg.blobs[bi];
          const std::string where =
              "topics/" + topic + "/" + std::to_string(pn) + "/" + seg.name() + " blob " + std::to_string(bi);
          Bytes data = repo.read_blob(b.id);
          if (sha256(data) != b.sha256) {
            s.problem = where + ": SHA-256 differs from the one recorded at backup time";
            break;
          }
          for (size_t pos = 0; pos < data.size();) {
            decode_record_view(data, pos, where, r);
            content.field(r.key);
            content.field(r.value);
            content.u64(r.headers.size());
            for (const auto& [name, value] : r.headers) content.field(name), content.field(value);
            if (r.timestamp >= 0 && r.timestamp_type == RD_KAFKA_TIMESTAMP_CREATE_TIME)
              times.u64(s.records), times.u64(uint64_t(r.timestamp));
            else
              s.untimed.push_back(s.records);
            s.records++;
          }
        }
      s.content = content.hex();
      s.times = times.hex();
    }
  }
  return out;
}

// What the target side needs to know about one archived partition: where its records went.
struct Replayed {
  Key source;
  std::string topic;  // on the target
  int partition = 0;
  json runs;                 // [[old_first, new_first, count, target_partition], …], by rising offsets
  int64_t from = 0, to = 0;  // the target offsets spanned, [from, to)
};

// The target side: the replayed records read back from the target cluster, hashed as the archive
// side hashes them. Records others wrote between the runs are passed over.
std::map<Key, PartitionSums> target_sums(const KafkaOptions& kafka, const json& offset_map, const CancelToken* cancel) {
  std::map<Key, Replayed> by_target;  // target topic, partition → what went there
  for (const auto& [topic, map] : offset_map.items())
    for (const auto& [p, runs] : map["partitions"].items()) {
      Replayed rp{{topic, std::stoi(p)}, map["target"], runs[0][3].get<int>(), runs, runs[0][1], 0};
      rp.to = runs.back()[1].get<int64_t>() + runs.back()[2].get<int64_t>();
      by_target[{rp.topic, rp.partition}] = std::move(rp);
    }
  std::map<Key, PartitionSums> out;
  if (by_target.empty()) return out;
  KafkaClient c(
      kafka, KafkaClient::Kind::Consumer,
      {{"group.id", "arca-drill-read-back"}, {"enable.auto.commit", "false"}, {"enable.partition.eof", "true"}});
  KafkaPartitions list(rd_kafka_topic_partition_list_new(int(by_target.size())));
  for (const auto& [tp, rp] : by_target)
    rd_kafka_topic_partition_list_add(list.get(), tp.first.c_str(), tp.second)->offset = rp.from;
  if (rd_kafka_resp_err_t e = rd_kafka_assign(c.get(), list.get())) throw_kafka(e, "reading back the replayed records");
  struct Reading {
    Sha256Stream content;
    size_t run = 0;
    bool done = false;
  };
  std::map<Key, Reading> reading;
  size_t left = by_target.size();
  auto finish = [&](const Key& tp) {
    if (!reading[tp].done) reading[tp].done = true, left--;
  };
  // A cluster that stops answering ends the reading; what was read is then compared (and differs).
  constexpr auto kStall = std::chrono::seconds(60);
  auto last = std::chrono::steady_clock::now();
  while (left > 0 && std::chrono::steady_clock::now() - last < kStall) {
    check_cancel(cancel, "the drill's Kafka validation");
    KafkaMessage m(rd_kafka_consumer_poll(c.get(), 200));
    if (!m) continue;
    last = std::chrono::steady_clock::now();
    const Key tp{m->rkt ? rd_kafka_topic_name(m->rkt) : "", m->partition};
    auto it = by_target.find(tp);
    if (it == by_target.end()) continue;
    const Replayed& rp = it->second;
    Reading& rd = reading[tp];
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      finish(tp);  // the end of the partition: nothing more will come
      continue;
    }
    if (m->err) throw_kafka(m->err, "reading back " + tp.first + "/" + std::to_string(tp.second));
    if (rd.done) continue;
    while (rd.run < rp.runs.size() &&
           m->offset >= rp.runs[rd.run][1].get<int64_t>() + rp.runs[rd.run][2].get<int64_t>())
      rd.run++;
    if (rd.run < rp.runs.size() && m->offset >= rp.runs[rd.run][1].get<int64_t>()) {
      PartitionSums& s = out[rp.source];
      rd.content.field(m->key ? std::optional<std::string_view>({static_cast<const char*>(m->key), m->key_len})
                              : std::nullopt);
      rd.content.field(m->payload ? std::optional<std::string_view>({static_cast<const char*>(m->payload), m->len})
                                  : std::nullopt);
      rd_kafka_headers_t* h = nullptr;
      const size_t n = rd_kafka_message_headers(m.get(), &h) == RD_KAFKA_RESP_ERR_NO_ERROR ? rd_kafka_header_cnt(h) : 0;
      rd.content.u64(n);
      for (size_t i = 0; i < n; i++) {
        const char* name = nullptr;
        const void* value = nullptr;
        size_t size = 0;
        rd_kafka_header_get_all(h, i, &name, &value, &size);
        rd.content.field(std::string_view(name));
        rd.content.field(value ? std::optional<std::string_view>({static_cast<const char*>(value), size})
                               : std::nullopt);
      }
      rd_kafka_timestamp_type_t type;
      const int64_t ts = rd_kafka_message_timestamp(m.get(), &type);
      s.read_times.push_back(type == RD_KAFKA_TIMESTAMP_CREATE_TIME ? ts : -1);
      s.records++;
    }
    if (m->offset + 1 >= rp.to) finish(tp);
  }
  rd_kafka_assign(c.get(), nullptr);
  for (auto& [tp, rp] : by_target) {
    PartitionSums& s = out[rp.source];
    Reading& rd = reading[tp];
    if (!rd.done) s.problem = "the target stopped answering while its records were read back";
    s.content = rd.content.hex();
  }
  return out;
}

std::string tp_name(const std::string& topic, int partition) { return topic + "/" + std::to_string(partition); }

// Each consumer group's offsets on the target, read back, against its recorded offsets translated
// through the offset map (the lowest where two partitions went to one). A group the file names
// must have been translated; one it does not name and that had nothing to translate is skipped.
void check_groups(const ComponentSpec& c, const KafkaArchive& archive, const json& offset_map,
                  const KafkaOptions& kafka, const std::string& group_prefix, ComponentResult& r) {
  std::vector<std::string> groups = c.groups;
  const bool named = !groups.empty();
  if (!named)
    for (const auto& [g, _] : archive.groups.items()) groups.push_back(g);
  std::unique_ptr<KafkaClient> client;
  for (const auto& g : groups) {
    const std::string name = group_prefix + g, check = "group " + g + " offsets";
    if (!archive.groups.contains(g)) {
      std::string recorded;
      for (const auto& [h, _] : archive.groups.items()) recorded += (recorded.empty() ? "" : ", ") + h;
      r.checks.push_back({check, false, false,
                          "the recovery point records no committed offsets of group " + g +
                              (recorded.empty() ? " (nor of any group)" : " (it records: " + recorded + ")")});
      continue;
    }
    std::map<Key, int64_t> want;  // target topic, partition → offset
    for (const auto& [topic, parts] : archive.groups[g].items()) {
      if (!offset_map.contains(topic)) continue;
      const auto& map = offset_map[topic];
      for (const auto& [p, committed] : parts.items()) {
        if (!map["partitions"].contains(p)) continue;
        auto t = translate_offset(map["partitions"][p], committed.get<int64_t>());
        if (!t) continue;
        const Key k{map["target"].get<std::string>(), t->first};
        want[k] = want.count(k) ? std::min(want[k], t->second) : t->second;
      }
    }
    if (want.empty()) {
      r.checks.push_back({check, !named, !named,
                          "its recorded offsets are on partitions without replayed records: nothing to translate"});
      continue;
    }
    if (!client) client = std::make_unique<KafkaClient>(kafka, KafkaClient::Kind::Producer);
    std::vector<std::pair<std::string, int>> parts;
    for (const auto& [k, _] : want) parts.push_back(k);
    const auto got = client->committed(name, parts, kafka.timeout_ms);
    std::string bad;
    size_t wrong = 0;
    for (const auto& [k, off] : want) {
      const auto it = got.find(k);
      const int64_t have = it == got.end() ? -1 : it->second;
      if (have == off) continue;
      if (wrong++ < 5)
        bad += (bad.empty() ? "" : "; ") + tp_name(k.first, k.second) + " " +
               (have < 0 ? "has none" : "has " + std::to_string(have)) + ", translated " + std::to_string(off);
    }
    r.checks.push_back({check, wrong == 0, false,
                        wrong == 0 ? std::to_string(want.size()) + " partition(s) committed as " + name +
                                         " at the offsets the offset map translates"
                                   : std::to_string(wrong) + " of " + std::to_string(want.size()) +
                                         " partition(s) of " + name + " differ: " + bad});
  }
}

// The records of one archived partition: replayed as many as archived, and read back as archived.
void check_partition(const std::string& topic, int pn, const KafkaPartitionArchive& arc, const json& map,
                     const std::map<Key, PartitionSums>& archived, const std::map<Key, PartitionSums>& read,
                     ComponentResult& r) {
  const std::string name = tp_name(topic, pn), p = std::to_string(pn);
  uint64_t replayed = 0;
  // Where the partition went: its runs name the target partition; an empty one names none and
  // keeps its number.
  std::string where = tp_name(map["target"].get<std::string>(), pn);
  if (map["partitions"].contains(p)) {
    for (const auto& run : map["partitions"][p]) replayed += run[2].get<uint64_t>();
    where = tp_name(map["target"].get<std::string>(), map["partitions"][p][0][3].get<int>());
  }
  r.checks.push_back(
      {"records " + name, replayed == arc.records, false,
       std::to_string(replayed) + " replayed to " + where + ", " + std::to_string(arc.records) + " archived"});
  if (arc.records == 0 && replayed == 0) return;
  const auto a = archived.find({topic, pn});
  const auto t = read.find({topic, pn});
  CheckResult k{"checksum " + name, false, false, ""};
  if (a == archived.end() || t == read.end())
    k.detail = "nothing was replayed to read back";
  else if (!a->second.problem.empty())
    k.detail = "the archive: " + a->second.problem;
  else if (!t->second.problem.empty())
    k.detail = where + ": " + t->second.problem;
  else if (t->second.records != a->second.records)
    k.detail = std::to_string(t->second.records) + " records read back from " + where + ", the archive holds " +
               std::to_string(a->second.records);
  else if (t->second.content != a->second.content)
    k.detail = "keys, values or headers read back from " + where + " differ from the archive's";
  else if (target_times(t->second, a->second) != a->second.times)
    k.detail = "timestamps read back from " + where + " differ from the archive's";
  else
    k.passed = true, k.detail = std::to_string(a->second.records) + " records read back from " + where +
                                ": keys, values, headers and timestamps as archived (SHA-256 " +
                                a->second.content.substr(0, 16) + "…)";
  r.checks.push_back(std::move(k));
}

}  // namespace

void kafka_component(const ComponentRun& run, ComponentResult& r, JobContext& ctx) {
  const ComponentSpec& c = run.component;
  std::unique_ptr<Repository> repo;
  Snapshot s;
  {
    PhaseTimer t(r, run.drill_start, "locate");
    repo = run.env.open_repository();
    s = locate_point(*repo, c, run.incident);
    fill_point(r, s);
  }
  ops::KafkaRestoreRequest req;
  req.snapshot = s.id.hex();
  req.source = c.source;
  req.topics = c.topics;
  req.groups = c.groups;
  // The target: the file's brokers, or a scratch cluster this component owns until it ends.
  std::unique_ptr<ScratchKafka> scratch;
  ops::KafkaRestoreOpResult res;
  KafkaArchive archive;
  {
    PhaseTimer t(r, run.drill_start, "restore");
    archive = KafkaArchive::load(*repo, s);
    if (c.target.given) {
      for (const auto& b : c.target.brokers) req.kafka.brokers += (req.kafka.brokers.empty() ? "" : ",") + b;
      req.topic_prefix = c.target.topic_prefix;
      req.group_prefix = c.target.group_prefix;
      r.checks.push_back(
          {"target", true, false,
           "brokers " + req.kafka.brokers + "; topics " +
               (req.topic_prefix.empty() ? "under their own names (production: true)"
                                         : "named " + req.topic_prefix + "<topic>") +
               ", groups " +
               (req.group_prefix.empty() ? "under their own names" : "named " + req.group_prefix + "<group>")});
    } else {
      scratch = std::make_unique<ScratchKafka>();
      req.kafka.brokers = scratch->bootstrap();
      req.replication_factor = 1;  // the scratch cluster has one broker
      for (const auto& [name, topic] : archive.topics) {
        int needed = topic.parts.empty() ? 0 : topic.parts.rbegin()->first + 1;
        scratch->create_topic(name, std::max(topic.partitions, needed));
      }
    }
    res = ops::kafka_restore(*repo, req, ctx);
  }
  PhaseTimer t(r, run.drill_start, "validate");
  // The archive's records and the target's are hashed at the same time (two cores).
  auto archive_side =
      std::async(std::launch::async, [&] { return archive_sums(*repo, archive, res.offset_map, &ctx.cancel); });
  std::map<Key, PartitionSums> read;
  try {
    read = target_sums(req.kafka, res.offset_map, &ctx.cancel);
  } catch (...) {
    archive_side.wait();
    throw;
  }
  const std::map<Key, PartitionSums> archived = archive_side.get();
  for (const auto& [topic, map] : res.offset_map.items())
    for (const auto& [pn, arc] : archive.topics.at(topic).parts)
      check_partition(topic, pn, arc, map, archived, read, r);
  check_groups(c, archive, res.offset_map, req.kafka, req.group_prefix, r);
  if (c.min_records)
    r.checks.push_back({"at least " + std::to_string(*c.min_records) + " records", res.records >= *c.min_records, false,
                        std::to_string(res.records) + " records replayed"});
  // RPO: the newest record's own timestamp (milliseconds), recorded by the archive.
  const auto& meta = s.metadata;
  if (meta.contains("newest_record_time") && meta["newest_record_time"].contains("value") &&
      meta["newest_record_time"]["value"].is_number())
    r.newest_data = meta["newest_record_time"]["value"].get<double>() / 1000;
  else
    r.newest_data = parse_time(s.time);
}

}  // namespace arca::drill
