#include "sources/kafka/kafka_archive.h"

#include <chrono>
#include <cstdio>
#include <limits>
#include <utility>

#include "crypto/hash.h"
#include "repo/content_reader.h"
#include "repo/json_int.h"
#include "util/error.h"

namespace arca {

using nlohmann::json;

int64_t kafka_ms_to_ns(int64_t ms) {
  constexpr int64_t kPerMs = 1'000'000;
  if (ms > INT64_MAX / kPerMs) return INT64_MAX;
  if (ms < INT64_MIN / kPerMs) return INT64_MIN;
  return ms * kPerMs;
}

namespace {

// An integer of archive JSON, range-checked for T: nlohmann's get<int64_t>() of 1e300 is a
// float-cast overflow (undefined behaviour), and an append-only key holder can write these files
// (see docs/security.md, "Kafka records"). Arca writes only integers, so anything else is damage.
template <class T>
T json_int(const json& v, const std::string& field) {
  if (auto n = json_integer<T>(v)) return *n;
  std::string shown = v.dump();
  if (shown.size() > 40) shown = shown.substr(0, 40) + "…";
  throw Error(ErrorKind::Corrupt, field + " is " + shown + ", not an integer from " +
                                      std::to_string(std::numeric_limits<T>::min()) + " to " +
                                      std::to_string(std::numeric_limits<T>::max()));
}

template <class T>
T json_int(const json& obj, const char* key, const std::string& where) {
  return json_int<T>(obj.at(key), where + key);
}

template <class T>
T json_int_or(const json& obj, const char* key, T dflt, const std::string& where) {
  return obj.contains(key) ? json_int<T>(obj.at(key), where + key) : dflt;
}

}  // namespace

std::string KafkaSegment::name() const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020lld.seg", static_cast<long long>(first));
  return buf;
}

Id KafkaSegment::checksum() const {
  Bytes all;
  for (const auto& b : blobs) all.insert(all.end(), b.sha256.b.begin(), b.sha256.b.end());
  return sha256(all);
}

void KafkaSegment::add(const KafkaBlobEntry& b) {
  if (blobs.empty()) first = b.first;
  last = b.last;
  records += b.records;
  bytes += b.bytes;
  min_ts = std::min(min_ts, b.min_ts);
  max_ts = std::max(max_ts, b.max_ts);
  blobs.push_back(b);
}

json KafkaPartitionArchive::to_json() const {
  json segs = json::array();
  for (const auto& s : segments) {
    json blobs = json::array();
    for (const auto& b : s.blobs)
      blobs.push_back({b.id.hex(), b.sha256.hex(), b.first, b.last, b.records, b.bytes, b.min_ts, b.max_ts});
    segs.push_back({{"name", s.name()},
                    {"first", s.first},
                    {"last", s.last},
                    {"records", s.records},
                    {"bytes", s.bytes},
                    {"min_timestamp", s.min_ts},
                    {"max_timestamp", s.max_ts},
                    {"sha256", s.checksum().hex()},
                    {"blobs", blobs}});
  }
  json gs = json::array();
  for (const auto& g : gaps) gs.push_back({{"from", g.from}, {"to", g.to}, {"reason", g.reason}});
  return {{"partition", partition},
          {"next_offset", next_offset},
          {"records", records},
          {"bytes", bytes},
          {"absent_offsets", absent},
          {"log_start", log_start},
          {"high_watermark", high_watermark},
          {"segments", segs},
          {"gaps", gs}};
}

KafkaPartitionArchive KafkaPartitionArchive::from_json(const json& j, const std::string& what) {
  try {
    KafkaPartitionArchive p;
    p.partition = json_int<int>(j, "partition", "");
    // Kafka partitions are numbered from 0; a restore indexes tables by partition number.
    if (p.partition < 0 || p.partition >= kMaxKafkaPartition)
      throw Error(ErrorKind::Corrupt, "partition number " + std::to_string(p.partition) + " is out of range");
    p.next_offset = json_int<int64_t>(j, "next_offset", "");
    p.records = json_int<uint64_t>(j, "records", "");
    p.bytes = json_int<uint64_t>(j, "bytes", "");
    p.absent = json_int_or<uint64_t>(j, "absent_offsets", 0, "");
    p.log_start = json_int_or<int64_t>(j, "log_start", -1, "");
    p.high_watermark = json_int_or<int64_t>(j, "high_watermark", -1, "");
    size_t si = 0;
    for (const auto& s : j.at("segments")) {
      std::string sw = "segments[" + std::to_string(si++) + "].";
      KafkaSegment seg;
      size_t bi = 0;
      for (const auto& b : s.at("blobs")) {
        std::string bw = sw + "blobs[" + std::to_string(bi++) + "]";
        auto at = [&](size_t i) { return b.at(i); };
        auto field = [&](size_t i, const char* name) { return bw + "[" + std::to_string(i) + "] (" + name + ")"; };
        seg.add({Id::from_hex(at(0).get<std::string>()), Id::from_hex(at(1).get<std::string>()),
                 json_int<int64_t>(at(2), field(2, "first offset")), json_int<int64_t>(at(3), field(3, "last offset")),
                 json_int<uint64_t>(at(4), field(4, "records")), json_int<uint64_t>(at(5), field(5, "bytes")),
                 json_int<int64_t>(at(6), field(6, "min timestamp")),
                 json_int<int64_t>(at(7), field(7, "max timestamp"))});
      }
      if (seg.records != json_int<uint64_t>(s, "records", sw) ||
          seg.checksum().hex() != s.at("sha256").get<std::string>())
        throw Error(ErrorKind::Corrupt,
                    "segment " + s.value("name", std::string("?")) + " disagrees with its blob list");
      p.segments.push_back(std::move(seg));
    }
    size_t gi = 0;
    for (const auto& g : j.at("gaps")) {
      std::string gw = "gaps[" + std::to_string(gi++) + "].";
      p.gaps.push_back({json_int<int64_t>(g, "from", gw), json_int<int64_t>(g, "to", gw), g.at("reason")});
    }
    return p;
  } catch (const json::exception& e) {
    throw Error(ErrorKind::Corrupt, what + " is malformed: " + e.what());
  } catch (const Error& e) {
    throw Error(ErrorKind::Corrupt, what + ": " + e.what());
  }
}

namespace {

json read_json_file(Repository& repo, const Node& n, const std::string& what) {
  Bytes all;
  for (const auto& id : n.content) {
    Bytes b;
    try {
      b = repo.read_blob(id);
    } catch (const Error& e) {
      throw Error(e.kind(), what + ": " + e.what());
    }
    all.insert(all.end(), b.begin(), b.end());
  }
  try {
    return json::parse(all.begin(), all.end());
  } catch (const json::exception& e) {
    throw Error(ErrorKind::Corrupt, what + " is not valid JSON: " + e.what());
  }
}

// groups.json: group → topic → partition → committed offset (a restore reads the offsets as int64).
void check_groups(const json& groups) {
  auto bad = [](const std::string& why) { throw Error(ErrorKind::Corrupt, "groups.json: " + why); };
  if (!groups.is_object()) bad("is not an object");
  for (const auto& [g, topics] : groups.items()) {
    if (!topics.is_object()) bad("group '" + g + "' is not an object");
    for (const auto& [t, parts] : topics.items()) {
      if (!parts.is_object()) bad("group '" + g + "', topic '" + t + "' is not an object");
      for (const auto& [p, off] : parts.items())
        json_int<int64_t>(off, "groups.json: group '" + g + "', " + t + "/" + p);
    }
  }
}

const Node* child(const Tree& t, const std::string& name) {
  for (const auto& n : t.nodes)
    if (n.name == name) return &n;
  return nullptr;
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Node file_node(Repository& repo, BlobWriter& writer, const std::string& name, const std::string& text) {
  Node n;
  n.name = name;
  n.type = NodeType::File;
  n.mode = 0644;
  n.mtime_ns = n.ctime_ns = now_ns();
  ByteView d(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  Id id = repo.blob_id(d);
  writer.add(BlobType::Data, id, d);
  n.content = {id};
  n.size = text.size();
  return n;
}

Node dir_node(Repository& repo, BlobWriter& writer, const std::string& name, Tree t) {
  std::sort(t.nodes.begin(), t.nodes.end(), [](const Node& a, const Node& b) { return a.name < b.name; });
  Bytes enc = encode_tree(t);
  Id id = repo.blob_id(enc);
  writer.add(BlobType::Tree, id, enc);
  Node n;
  n.name = name;
  n.type = NodeType::Dir;
  n.mode = 0755;
  n.mtime_ns = n.ctime_ns = now_ns();
  n.subtree = id;
  return n;
}

}  // namespace

KafkaArchive KafkaArchive::load(Repository& repo, const Snapshot& snap) {
  KafkaArchive a;
  Tree root = repo.load_tree(snap.tree);
  if (const Node* g = child(root, "groups.json")) {
    a.groups = read_json_file(repo, *g, "groups.json");
    check_groups(a.groups);
  }
  const Node* topics = child(root, "topics");
  if (!topics || !topics->subtree) return a;
  Tree topics_tree = repo.load_tree(*topics->subtree);
  for (const auto& tn : topics_tree.nodes) {
    if (tn.type != NodeType::Dir || !tn.subtree) continue;
    KafkaTopicArchive t;
    t.name = tn.name;
    Tree tt = repo.load_tree(*tn.subtree);
    if (const Node* meta = child(tt, "topic.json")) {
      std::string what = "topics/" + t.name + "/topic.json";
      json m = read_json_file(repo, *meta, what);
      try {
        t.partitions = json_int_or<int>(m, "partitions", 0, "");
        t.replication_factor = json_int_or<int>(m, "replication_factor", 0, "");
        // A restore creates the topic with this many partitions: the same bound as partition numbers.
        if (t.partitions < 0 || t.partitions > kMaxKafkaPartition || t.replication_factor < 0)
          throw Error(ErrorKind::Corrupt, "partitions " + std::to_string(t.partitions) + " or replication factor " +
                                              std::to_string(t.replication_factor) + " is out of range");
        t.config = m.value("config", json());
        // A restore passes the settings to the cluster as strings.
        if (!t.config.is_null() && !t.config.is_object()) throw Error(ErrorKind::Corrupt, "config is not an object");
        for (const auto& [k, v] : t.config.items())
          if (!v.is_string()) throw Error(ErrorKind::Corrupt, "config setting '" + k + "' is not a string");
        t.config_error = m.value("config_error", std::string());
        t.missing_since = m.value("missing_since", std::string());
      } catch (const json::exception& e) {
        throw Error(ErrorKind::Corrupt, what + " is malformed: " + e.what());
      } catch (const Error& e) {
        throw Error(ErrorKind::Corrupt, what + ": " + e.what());
      }
    }
    for (const auto& pn : tt.nodes) {
      if (pn.type != NodeType::Dir || !pn.subtree) continue;
      std::string what = "topics/" + t.name + "/" + pn.name + "/index.json";
      Tree pt = repo.load_tree(*pn.subtree);
      const Node* idx = child(pt, "index.json");
      if (!idx) throw Error(ErrorKind::Corrupt, what + " is missing");
      KafkaPartitionArchive p = KafkaPartitionArchive::from_json(read_json_file(repo, *idx, what), what);
      t.parts[p.partition] = std::move(p);
    }
    a.topics[t.name] = std::move(t);
  }
  return a;
}

Id KafkaArchive::store(Repository& repo, BlobWriter& writer) const {
  Tree topics_tree;
  for (const auto& [name, t] : topics) {
    Tree tt;
    json meta = {{"partitions", t.partitions}, {"replication_factor", t.replication_factor}, {"config", t.config}};
    if (!t.config_error.empty()) meta["config_error"] = t.config_error;
    if (!t.missing_since.empty()) meta["missing_since"] = t.missing_since;
    tt.nodes.push_back(file_node(repo, writer, "topic.json", meta.dump(1)));
    for (const auto& [pnum, p] : t.parts) {
      Tree pt;
      pt.nodes.push_back(file_node(repo, writer, "index.json", p.to_json().dump()));
      for (const auto& s : p.segments) {
        Node n;
        n.name = s.name();
        n.type = NodeType::File;
        n.mode = 0644;
        n.mtime_ns = n.ctime_ns = s.max_ts > 0 ? kafka_ms_to_ns(s.max_ts) : now_ns();
        n.size = s.bytes;
        for (const auto& b : s.blobs) n.content.push_back(b.id);
        pt.nodes.push_back(std::move(n));
      }
      tt.nodes.push_back(dir_node(repo, writer, std::to_string(pnum), std::move(pt)));
    }
    topics_tree.nodes.push_back(dir_node(repo, writer, name, std::move(tt)));
  }
  Tree root;
  root.nodes.push_back(dir_node(repo, writer, "topics", std::move(topics_tree)));
  root.nodes.push_back(file_node(repo, writer, "groups.json", groups.dump(1)));
  std::sort(root.nodes.begin(), root.nodes.end(), [](const Node& a, const Node& b) { return a.name < b.name; });
  Bytes enc = encode_tree(root);
  Id id = repo.blob_id(enc);
  writer.add(BlobType::Tree, id, enc);
  return id;
}

uint64_t KafkaArchive::records() const {
  uint64_t n = 0;
  for (const auto& [_, t] : topics)
    for (const auto& [__, p] : t.parts) n += p.records;
  return n;
}

uint64_t KafkaArchive::bytes() const {
  uint64_t n = 0;
  for (const auto& [_, t] : topics)
    for (const auto& [__, p] : t.parts) n += p.bytes;
  return n;
}

}  // namespace arca
