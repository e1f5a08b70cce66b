// A Kafka component of a drill: its recovery point replayed (ops::kafka_restore) into a target
// cluster — the brokers its file names, with a topic prefix, or a scratch cluster the drill starts
// in this process and stops at the end — then validated there: records per partition against the
// archive, the replayed records read back and hashed against the archive's (key, value, headers,
// timestamp), and every consumer group's translated offsets read back from the target. Internal
// to src/drill.
#pragma once
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <string>

#include "drill/drill_components.h"

namespace arca::drill {

void kafka_component(const ComponentRun& run, ComponentResult& r, JobContext& ctx);

// A scratch Kafka cluster the drill owns: librdkafka's mock cluster (the Kafka protocol over TCP
// on 127.0.0.1, in this process), started by the constructor, stopped with everything in it by
// the destructor. It proves the archive replays over the protocol and its offsets translate; not
// that a production cluster (its version, settings, quotas, ACLs) accepts it.
class ScratchKafka {
 public:
  explicit ScratchKafka(int brokers = 1);
  ~ScratchKafka();
  ScratchKafka(const ScratchKafka&) = delete;
  ScratchKafka& operator=(const ScratchKafka&) = delete;
  const std::string& bootstrap() const { return bootstrap_; }
  // A topic with this many partitions. The mock cluster creates a topic that is only looked up
  // with its own default of 4 partitions, which an archive of more could not replay into.
  void create_topic(const std::string& name, int partitions);

 private:
  rd_kafka_t* rk_ = nullptr;  // the handle the mock cluster lives in
  rd_kafka_mock_cluster_t* mc_ = nullptr;
  std::string bootstrap_;
};

}  // namespace arca::drill
