// A Kafka partition segment blob: length-prefixed records back to back, decoded both ways.
#include "fuzz.h"
#include "sources/kafka/record_codec.h"

ARCA_FUZZ_TARGET(data, size) {
  arca::ByteView d = arca_fuzz::view(data, size);
  size_t pos = 0;
  try {
    while (pos < d.size()) {
      arca::KafkaRecord r = arca::decode_record(d, pos, "fuzz.seg");
      arca::Bytes again;
      arca::encode_record(r, again);
    }
  } catch (const arca::Error&) {}
  pos = 0;
  arca::KafkaRecordView v;
  while (pos < d.size()) arca::decode_record_view(d, pos, "fuzz.seg", v);
}
