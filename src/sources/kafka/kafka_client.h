// librdkafka handles for Arca: RAII ownership, configuration from the command line (brokers and
// any librdkafka property, e.g. security.protocol / sasl.*), cluster metadata, watermarks, and
// the admin calls (CreateTopics, DescribeConfigs, ListConsumerGroups) with bounded waits.
#pragma once
#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace arca {

struct KafkaOptions {
  std::string brokers;                  // host:port,…
  std::vector<std::string> properties;  // librdkafka NAME=VALUE settings
  int timeout_ms = 30'000;              // metadata and admin calls
};

struct KafkaDeleter {
  void operator()(rd_kafka_t* k) const;
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
  void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
  void operator()(rd_kafka_AdminOptions_t* o) const { rd_kafka_AdminOptions_destroy(o); }
  void operator()(const rd_kafka_metadata_t* m) const { rd_kafka_metadata_destroy(m); }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaDeleter>;
using KafkaPartitions = std::unique_ptr<rd_kafka_topic_partition_list_t, KafkaDeleter>;
using KafkaMessage = std::unique_ptr<rd_kafka_message_t, KafkaDeleter>;

struct TopicInfo {
  std::string name;
  int partitions = 0;
  int replication_factor = 0;
};

class KafkaClient {
 public:
  enum class Kind { Consumer, Producer };
  // `extra` settings apply before the user's; `group` sets group.id (consumers).
  KafkaClient(const KafkaOptions& opts, Kind kind, const std::map<std::string, std::string>& extra = {},
              rd_kafka_conf_t* preset = nullptr);
  rd_kafka_t* get() const { return rk_.get(); }
  const std::string& brokers() const { return opts_.brokers; }

  // Topics (internal ones excluded) whose name matches; throws Error(Unreachable) when the cluster
  // cannot be reached.
  std::vector<TopicInfo> topics(const std::optional<std::regex>& match);
  std::optional<TopicInfo> topic(const std::string& name);
  // Admin: the settings made for each topic (not broker defaults); nullopt (and `error`) if the
  // cluster does not answer.
  using TopicConfigs = std::map<std::string, std::map<std::string, std::string>>;
  std::optional<TopicConfigs> topic_configs(const std::vector<std::string>& topics, int timeout_ms, std::string& error);
  // Admin: creates a topic; throws Error naming the broker's answer.
  void create_topic(const std::string& name, int partitions, int replication_factor,
                    const std::map<std::string, std::string>& config);
  // Admin: consumer group names; nullopt (and `error`) if the cluster does not answer.
  std::optional<std::vector<std::string>> list_groups(int timeout_ms, std::string& error);
  // The committed offsets of `group` for the given partitions (-1 = none).
  std::map<std::pair<std::string, int>, int64_t> committed(const std::string& group,
                                                           const std::vector<std::pair<std::string, int>>& parts,
                                                           int timeout_ms);

 private:
  const rd_kafka_metadata_t* metadata(const std::string* topic);
  KafkaOptions opts_;
  KafkaHandle rk_;
};

// "what failed: librdkafka's message" as an Error of the right kind.
[[noreturn]] void throw_kafka(rd_kafka_resp_err_t err, const std::string& what);

}  // namespace arca
