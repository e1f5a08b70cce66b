// Pieces shared by the `arca kafka` subcommands (cmd_kafka.cpp, cmd_kafka_restore.cpp).
#pragma once
#include "cli/common.h"
#include "sources/kafka/kafka_client.h"

namespace arca {

void add_kafka_cluster_options(CLI::App& cmd, KafkaOptions& k);
void register_kafka_restore(CLI::App& kafka, GlobalOptions& g);

}  // namespace arca
