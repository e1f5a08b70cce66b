#include "sources/kafka/kafka_verify.h"

#include <chrono>

#include "crypto/hash.h"
#include "repo/source_snapshot.h"
#include "sources/kafka/kafka_archive.h"
#include "sources/kafka/record_codec.h"
#include "util/cancel.h"
#include "util/error.h"

namespace arca {

bool KafkaVerifyResult::passed() const {
  for (const auto& p : partitions)
    if (!p.passed) return false;
  return !partitions.empty();
}

KafkaVerifyResult kafka_verify(Repository& repo, const std::string& snapshot, const std::string& source,
                               ProgressCounters& progress, const CancelToken* cancel) {
  auto started = std::chrono::steady_clock::now();
  KafkaVerifyResult res;
  res.snapshot = find_source_snapshot(repo, snapshot, "kafka", source, "arca kafka backup");
  KafkaArchive archive = KafkaArchive::load(repo, res.snapshot);
  progress.files_total = archive.records();
  progress.bytes_total = archive.bytes();
  progress.totals_known = true;
  for (const auto& [name, t] : archive.topics) {
    for (const auto& [pn, arc] : t.parts) {
      KafkaVerifyPartition v;
      v.topic = name;
      v.partition = pn;
      v.segments = arc.segments.size();
      int64_t prev = -1;
      auto fail = [&](const std::string& where, const std::string& what) {
        if (v.passed) v.problem = where + ": " + what;
        v.passed = false;
      };
      for (const auto& seg : arc.segments) {
        std::string segname = "topics/" + name + "/" + std::to_string(pn) + "/" + seg.name();
        uint64_t seg_records = 0;
        for (size_t bi = 0; bi < seg.blobs.size() && v.passed; bi++) {
          check_cancel(cancel, "Kafka verify");
          const auto& b = seg.blobs[bi];
          std::string where = segname + " blob " + std::to_string(bi);
          Bytes data;
          try {
            data = repo.read_blob(b.id);
          } catch (const Error& e) {
            fail(where, e.what());
            break;
          }
          if (sha256(data) != b.sha256) fail(where, "SHA-256 differs from the one recorded at backup time");
          if (data.size() != b.bytes) fail(where, "size differs from the recorded one");
          uint64_t n = 0;
          int64_t min_ts = INT64_MAX, max_ts = INT64_MIN, first = -1, last = -1;
          try {
            KafkaRecordView r;
            for (size_t pos = 0; pos < data.size();) {
              decode_record_view(data, pos, where, r);
              if (r.offset <= prev)
                fail(where, "offset " + std::to_string(r.offset) + " does not follow " + std::to_string(prev));
              prev = r.offset;
              if (first < 0) first = r.offset;
              last = r.offset;
              if (r.timestamp >= 0) min_ts = std::min(min_ts, r.timestamp), max_ts = std::max(max_ts, r.timestamp);
              n++;
            }
          } catch (const Error& e) {
            fail(where, e.what());
          }
          if (n != b.records || first != b.first || last != b.last)
            fail(where, "holds " + std::to_string(n) + " records at offsets " + std::to_string(first) + ".." +
                            std::to_string(last) + ", recorded " + std::to_string(b.records) + " at " +
                            std::to_string(b.first) + ".." + std::to_string(b.last));
          if (n && (min_ts != b.min_ts || max_ts != b.max_ts)) fail(where, "timestamps differ from the recorded range");
          seg_records += n;
          progress.files_done += n;
          progress.bytes_done += data.size();
          v.bytes += data.size();
        }
        if (v.passed && seg_records != seg.records) fail(segname, "record count differs from the recorded one");
        v.records += seg_records;
        if (v.first < 0) v.first = seg.first;
        v.last = seg.last;
      }
      if (v.passed && v.records != arc.records)
        fail("topics/" + name + "/" + std::to_string(pn),
             std::to_string(v.records) + " records, recorded " + std::to_string(arc.records));
      if (v.passed && v.last >= 0 && arc.next_offset <= v.last)
        fail("topics/" + name + "/" + std::to_string(pn),
             "next offset " + std::to_string(arc.next_offset) + " is not past the last archived record");
      res.records += v.records;
      res.bytes += v.bytes;
      res.partitions.push_back(std::move(v));
    }
  }
  res.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return res;
}

}  // namespace arca
