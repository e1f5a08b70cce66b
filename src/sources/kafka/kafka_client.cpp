#include "sources/kafka/kafka_client.h"

#include <chrono>
#include <cstdio>
#include <thread>

#include "util/error.h"

namespace arca {

void KafkaDeleter::operator()(rd_kafka_t* k) const {
  if (rd_kafka_type(k) == RD_KAFKA_PRODUCER)
    rd_kafka_flush(k, 10'000);  // deliver what is queued
  else
    rd_kafka_consumer_close(k);
  rd_kafka_destroy(k);
}

void throw_kafka(rd_kafka_resp_err_t err, const std::string& what) {
  ErrorKind kind = ErrorKind::Generic;
  switch (err) {
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__RESOLVE:
      kind = ErrorKind::Unreachable;
      break;
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      kind = ErrorKind::NotFound;
      break;
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
      kind = ErrorKind::Auth;
      break;
    default:
      break;
  }
  throw Error(kind, what + ": " + rd_kafka_err2str(err));
}

KafkaClient::KafkaClient(const KafkaOptions& opts, Kind kind, const std::map<std::string, std::string>& extra,
                         rd_kafka_conf_t* preset)
    : opts_(opts) {
  if (opts.brokers.empty())
    throw Error(ErrorKind::Usage, "give the Kafka bootstrap brokers with --brokers host:port,…");
  rd_kafka_conf_t* conf = preset ? preset : rd_kafka_conf_new();
  std::unique_ptr<rd_kafka_conf_t, KafkaDeleter> owned(conf);
  char err[512];
  auto set = [&](const std::string& k, const std::string& v, bool user) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK)
      throw Error(ErrorKind::Usage, std::string(user ? "Kafka setting " : "internal Kafka setting ") + k + ": " + err);
  };
  set("bootstrap.servers", opts.brokers, true);
  set("client.id", "arca", false);
  // librdkafka logs every failed connection attempt while it retries; Arca reports what fails
  // in its own words, so only critical messages pass.
  rd_kafka_conf_set_log_cb(conf, [](const rd_kafka_t*, int level, const char* fac, const char* buf) {
    if (level <= 2) std::fprintf(stderr, "librdkafka %s: %s\n", fac, buf);
  });
  for (const auto& [k, v] : extra) set(k, v, false);
  for (const auto& p : opts.properties) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) throw Error(ErrorKind::Usage, "-X wants NAME=VALUE, not '" + p + "'");
    set(p.substr(0, eq), p.substr(eq + 1), true);
  }
  rk_.reset(rd_kafka_new(kind == Kind::Consumer ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER, conf, err, sizeof err));
  if (!rk_) throw Error(ErrorKind::Usage, std::string("cannot create the Kafka client: ") + err);
  owned.release();  // rd_kafka_new took the configuration
}

const rd_kafka_metadata_t* KafkaClient::metadata(const std::string* topic) {
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t e;
  if (topic) {
    // A topic handle asks for that topic only (and does not create it on a real cluster with
    // auto-creation off).
    rd_kafka_topic_t* t = rd_kafka_topic_new(rk_.get(), topic->c_str(), nullptr);
    e = rd_kafka_metadata(rk_.get(), 0, t, &md, opts_.timeout_ms);
    rd_kafka_topic_destroy(t);
  } else {
    e = rd_kafka_metadata(rk_.get(), 1, nullptr, &md, opts_.timeout_ms);
  }
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw_kafka(e, "cannot read the metadata of the Kafka cluster at " + opts_.brokers +
                       " (are the brokers running and reachable?)");
  return md;
}

std::vector<TopicInfo> KafkaClient::topics(const std::optional<std::regex>& match) {
  std::unique_ptr<const rd_kafka_metadata_t, KafkaDeleter> md(metadata(nullptr));
  std::vector<TopicInfo> out;
  for (int i = 0; i < md->topic_cnt; i++) {
    const auto& t = md->topics[i];
    std::string name = t.topic;
    if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR || name.rfind("__", 0) == 0) continue;
    if (match && !std::regex_match(name, *match)) continue;
    out.push_back({name, t.partition_cnt, t.partition_cnt > 0 ? t.partitions[0].replica_cnt : 0});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

std::optional<TopicInfo> KafkaClient::topic(const std::string& name) {
  // A topic being created answers LEADER_NOT_AVAILABLE for a moment: ask again.
  for (int attempt = 0;; attempt++) {
    std::unique_ptr<const rd_kafka_metadata_t, KafkaDeleter> md(metadata(&name));
    for (int i = 0; i < md->topic_cnt; i++) {
      const auto& t = md->topics[i];
      if (name != t.topic) continue;
      if (t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) return std::nullopt;
      if (t.err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE && attempt < 50) break;
      if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR) throw_kafka(t.err, "topic " + name);
      if (t.partition_cnt == 0) return std::nullopt;
      return TopicInfo{name, t.partition_cnt, t.partitions[0].replica_cnt};
    }
    if (attempt >= 50) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

namespace {

// Runs one admin request and waits for its result event.
using EventPtr = std::unique_ptr<rd_kafka_event_t, KafkaDeleter>;
template <typename Start>
EventPtr admin_call(rd_kafka_t* rk, rd_kafka_admin_op_t op, int timeout_ms, Start start) {
  std::unique_ptr<rd_kafka_queue_t, KafkaDeleter> q(rd_kafka_queue_new(rk));
  std::unique_ptr<rd_kafka_AdminOptions_t, KafkaDeleter> o(rd_kafka_AdminOptions_new(rk, op));
  char err[256];
  rd_kafka_AdminOptions_set_request_timeout(o.get(), timeout_ms, err, sizeof err);
  start(o.get(), q.get());
  EventPtr ev(rd_kafka_queue_poll(q.get(), timeout_ms + 1000));
  return ev;
}

}  // namespace

std::optional<KafkaClient::TopicConfigs> KafkaClient::topic_configs(const std::vector<std::string>& topics,
                                                                    int timeout_ms, std::string& error) {
  std::vector<rd_kafka_ConfigResource_t*> res;
  for (const auto& t : topics) res.push_back(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, t.c_str()));
  EventPtr ev = admin_call(rk_.get(), RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout_ms,
                           [&](rd_kafka_AdminOptions_t* o, rd_kafka_queue_t* q) {
                             rd_kafka_DescribeConfigs(rk_.get(), res.data(), res.size(), o, q);
                           });
  for (auto* r : res) rd_kafka_ConfigResource_destroy(r);
  if (!ev) {
    error = "no answer to DescribeConfigs within " + std::to_string(timeout_ms / 1000) + " s";
    return std::nullopt;
  }
  if (rd_kafka_event_error(ev.get())) {
    error = rd_kafka_event_error_string(ev.get());
    return std::nullopt;
  }
  const rd_kafka_DescribeConfigs_result_t* r = rd_kafka_event_DescribeConfigs_result(ev.get());
  size_t n = 0;
  const rd_kafka_ConfigResource_t** rs = rd_kafka_DescribeConfigs_result_resources(r, &n);
  TopicConfigs out;
  for (size_t i = 0; i < n; i++) {
    if (rd_kafka_ConfigResource_error(rs[i])) continue;  // that topic stays unknown
    auto& cfg = out[rd_kafka_ConfigResource_name(rs[i])];
    size_t cn = 0;
    const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(rs[i], &cn);
    for (size_t k = 0; k < cn; k++) {
      // Only what was set for this topic: broker defaults belong to the target cluster.
      if (rd_kafka_ConfigEntry_source(entries[k]) != RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG) continue;
      if (rd_kafka_ConfigEntry_is_sensitive(entries[k])) continue;
      const char* v = rd_kafka_ConfigEntry_value(entries[k]);
      cfg[rd_kafka_ConfigEntry_name(entries[k])] = v ? v : "";
    }
  }
  return out;
}

void KafkaClient::create_topic(const std::string& name, int partitions, int replication_factor,
                               const std::map<std::string, std::string>& config) {
  char err[512];
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(name.c_str(), partitions, replication_factor, err, sizeof err);
  if (!nt) throw Error(ErrorKind::Usage, "cannot describe the new topic " + name + ": " + err);
  for (const auto& [k, v] : config) rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str());
  EventPtr ev = admin_call(
      rk_.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS, opts_.timeout_ms,
      [&](rd_kafka_AdminOptions_t* o, rd_kafka_queue_t* q) { rd_kafka_CreateTopics(rk_.get(), &nt, 1, o, q); });
  rd_kafka_NewTopic_destroy(nt);
  std::string hint =
      "\n  create the topic yourself with " + std::to_string(partitions) + " partitions, then run the restore again";
  if (!ev)
    throw Error(ErrorKind::Unreachable, "the cluster did not answer CreateTopics for " + name + " in time" + hint);
  if (rd_kafka_event_error(ev.get()))
    throw Error(ErrorKind::Generic,
                "creating topic " + name + " failed: " + rd_kafka_event_error_string(ev.get()) + hint);
  size_t n = 0;
  const rd_kafka_topic_result_t** tr =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev.get()), &n);
  for (size_t i = 0; i < n; i++)
    if (rd_kafka_topic_result_error(tr[i]) != RD_KAFKA_RESP_ERR_NO_ERROR &&
        rd_kafka_topic_result_error(tr[i]) != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
      throw Error(ErrorKind::Generic,
                  "creating topic " + name + " failed: " + rd_kafka_topic_result_error_string(tr[i]) + hint);
}

std::optional<std::vector<std::string>> KafkaClient::list_groups(int timeout_ms, std::string& error) {
  EventPtr ev = admin_call(
      rk_.get(), RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, timeout_ms,
      [&](rd_kafka_AdminOptions_t* o, rd_kafka_queue_t* q) { rd_kafka_ListConsumerGroups(rk_.get(), o, q); });
  if (!ev) {
    error = "no answer within " + std::to_string(timeout_ms / 1000) + " s";
    return std::nullopt;
  }
  if (rd_kafka_event_error(ev.get())) {
    error = rd_kafka_event_error_string(ev.get());
    return std::nullopt;
  }
  const rd_kafka_ListConsumerGroups_result_t* r = rd_kafka_event_ListConsumerGroups_result(ev.get());
  size_t n = 0, ne = 0;
  const rd_kafka_ConsumerGroupListing_t** gs = rd_kafka_ListConsumerGroups_result_valid(r, &n);
  const rd_kafka_error_t** errs = rd_kafka_ListConsumerGroups_result_errors(r, &ne);
  if (n == 0 && ne > 0) {
    error = rd_kafka_error_string(errs[0]);
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < n; i++) out.push_back(rd_kafka_ConsumerGroupListing_group_id(gs[i]));
  return out;
}

std::map<std::pair<std::string, int>, int64_t> KafkaClient::committed(
    const std::string& group, const std::vector<std::pair<std::string, int>>& parts, int timeout_ms) {
  KafkaPartitions list(rd_kafka_topic_partition_list_new(int(parts.size())));
  for (const auto& [t, p] : parts) rd_kafka_topic_partition_list_add(list.get(), t.c_str(), p);
  rd_kafka_ListConsumerGroupOffsets_t* req = rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), list.get());
  EventPtr ev = admin_call(rk_.get(), RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, timeout_ms,
                           [&](rd_kafka_AdminOptions_t* o, rd_kafka_queue_t* q) {
                             rd_kafka_ListConsumerGroupOffsets(rk_.get(), &req, 1, o, q);
                           });
  rd_kafka_ListConsumerGroupOffsets_destroy(req);
  std::string what = "cannot read the committed offsets of group " + group;
  if (!ev) throw Error(ErrorKind::Unreachable, what + ": no answer within " + std::to_string(timeout_ms) + " ms");
  if (rd_kafka_event_error(ev.get())) throw_kafka(rd_kafka_event_error(ev.get()), what);
  size_t n = 0;
  const rd_kafka_group_result_t** groups =
      rd_kafka_ListConsumerGroupOffsets_result_groups(rd_kafka_event_ListConsumerGroupOffsets_result(ev.get()), &n);
  std::map<std::pair<std::string, int>, int64_t> out;
  for (size_t i = 0; i < n; i++) {
    if (const rd_kafka_error_t* e = rd_kafka_group_result_error(groups[i])) throw_kafka(rd_kafka_error_code(e), what);
    const rd_kafka_topic_partition_list_t* l = rd_kafka_group_result_partitions(groups[i]);
    for (int k = 0; l && k < l->cnt; k++) {
      const auto& tp = l->elems[k];
      out[{tp.topic, tp.partition}] = tp.err == RD_KAFKA_RESP_ERR_NO_ERROR ? tp.offset : -1;
    }
  }
  return out;
}

}  // namespace arca
