// A partition's index.json in a Kafka recovery point (KafkaArchive::load: a JSON parse error is
// turned into Corrupt there; from_json must refuse everything else itself).
#include "fuzz.h"
#include "sources/kafka/kafka_archive.h"

ARCA_FUZZ_TARGET(data, size) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(data, data + size);
  } catch (const nlohmann::json::exception&) {
    return;
  }
  arca::KafkaPartitionArchive p = arca::KafkaPartitionArchive::from_json(j, "index.json");
  (void)p.to_json().dump();
  for (const auto& s : p.segments) (void)s.name();
}
