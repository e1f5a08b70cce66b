#include "sources/kafka/kafka_archive.h"

#include <chrono>
#include <cstdio>

#include "crypto/hash.h"
#include "repo/content_reader.h"
#include "util/error.h"

namespace arca {

using nlohmann::json;

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
    segs.push_back({{"name", s.name()}, {"first", s.first}, {"last", s.last}, {"records", s.records}, {"bytes", s.bytes},
                    {"min_timestamp", s.min_ts}, {"max_timestamp", s.max_ts}, {"sha256", s.checksum().hex()},
                    {"blobs", blobs}});
  }
  json gs = json::array();
  for (const auto& g : gaps) gs.push_back({{"from", g.from}, {"to", g.to}, {"reason", g.reason}});
  return {{"partition", partition}, {"next_offset", next_offset}, {"records", records}, {"bytes", bytes},
          {"absent_offsets", absent}, {"log_start", log_start}, {"high_watermark", high_watermark},
          {"segments", segs}, {"gaps", gs}};
}

KafkaPartitionArchive KafkaPartitionArchive::from_json(const json& j, const std::string& what) {
  try {
    KafkaPartitionArchive p;
    p.partition = j.at("partition");
    // Kafka partitions are numbered from 0; a restore indexes tables by partition number.
    if (p.partition < 0 || p.partition >= kMaxKafkaPartition)
      throw Error(ErrorKind::Corrupt, "partition number " + std::to_string(p.partition) + " is out of range");
    p.next_offset = j.at("next_offset");
    p.records = j.at("records");
    p.bytes = j.at("bytes");
    p.absent = j.value("absent_offsets", uint64_t(0));
    p.log_start = j.value("log_start", int64_t(-1));
    p.high_watermark = j.value("high_watermark", int64_t(-1));
    for (const auto& s : j.at("segments")) {
      KafkaSegment seg;
      for (const auto& b : s.at("blobs"))
        seg.add({Id::from_hex(b.at(0).get<std::string>()), Id::from_hex(b.at(1).get<std::string>()), b.at(2), b.at(3),
                 b.at(4), b.at(5), b.at(6), b.at(7)});
      if (seg.records != s.at("records").get<uint64_t>() || seg.checksum().hex() != s.at("sha256").get<std::string>())
        throw Error(ErrorKind::Corrupt, "segment " + s.value("name", std::string("?")) + " disagrees with its blob list");
      p.segments.push_back(std::move(seg));
    }
    for (const auto& g : j.at("gaps")) p.gaps.push_back({g.at("from"), g.at("to"), g.at("reason")});
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

const Node* child(const Tree& t, const std::string& name) {
  for (const auto& n : t.nodes)
    if (n.name == name) return &n;
  return nullptr;
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
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
  if (const Node* g = child(root, "groups.json")) a.groups = read_json_file(repo, *g, "groups.json");
  const Node* topics = child(root, "topics");
  if (!topics || !topics->subtree) return a;
  Tree topics_tree = repo.load_tree(*topics->subtree);
  for (const auto& tn : topics_tree.nodes) {
    if (tn.type != NodeType::Dir || !tn.subtree) continue;
    KafkaTopicArchive t;
    t.name = tn.name;
    Tree tt = repo.load_tree(*tn.subtree);
    if (const Node* meta = child(tt, "topic.json")) {
      json m = read_json_file(repo, *meta, "topics/" + t.name + "/topic.json");
      t.partitions = m.value("partitions", 0);
      t.replication_factor = m.value("replication_factor", 0);
      t.config = m.value("config", json());
      t.config_error = m.value("config_error", std::string());
      t.missing_since = m.value("missing_since", std::string());
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
        n.mtime_ns = n.ctime_ns = s.max_ts > 0 ? s.max_ts * 1'000'000 : now_ns();
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
