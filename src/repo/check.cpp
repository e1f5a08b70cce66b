#include "repo/check.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_set>

#include "crypto/hash.h"
#include "repo/envelope.h"
#include "repo/locks.h"
#include "repo/prune_marks.h"
#include "util/error.h"
#include "util/parallel_for.h"

namespace arca {
namespace {

class Checker {
 public:
  Checker(Repository& repo, const CheckOptions& opts, ProgressCounters& progress)
      : repo_(repo), opts_(opts), progress_(progress) {}
  CheckResult run();

 private:
  void load_index();
  void check_packs_exist();
  void check_snapshots();
  void check_tree(const Id& tree, const std::string& snap, const std::string& path);
  void read_packs();
  void read_pack(const std::string& name, BlobType type, const Id& id);
  void check_wal();
  void check_marks_and_locks();
  void map_affected();
  void map_tree(const std::string& snap, const Id& tree, const std::string& path);
  void error(const std::string& object, const std::string& msg) {
    std::lock_guard lk(mu_);
    result_.errors.push_back({object, msg});
  }

  Repository& repo_;
  const CheckOptions& opts_;
  ProgressCounters& progress_;
  Index index_;
  std::map<Id, std::vector<std::pair<Id, PackedBlob>>> by_pack_;  // pack -> blobs per index
  std::map<std::string, uint64_t> pack_files_;                   // name -> size
  std::vector<Snapshot> snapshots_;
  std::unordered_set<Id, IdHash> trees_seen_;
  std::unordered_set<Id, IdHash> bad_blobs_;
  std::mutex mu_;
  CheckResult result_;
};

void Checker::load_index() {
  std::vector<std::string> names;
  repo_.backend().list("index/", [&](const ObjectInfo& o) { names.push_back(o.name); });
  std::mutex mu;  // each file is merged as soon as it is decoded
  parallel_for(names.size(), repo_.backend().parallelism(), [&](size_t i) {
    try {
      auto packs = decode_index_file(repo_.load_object(names[i]), names[i]);
      std::lock_guard lk(mu);
      for (const auto& p : packs) {
        index_.add(p);
        auto& v = by_pack_[p.pack];
        if (v.empty())
          for (const auto& b : p.blobs) v.emplace_back(b.id, b);
      }
    } catch (const Error& e) {
      error(names[i], e.what());
    }
  });
  index_.finalize();
}

void Checker::check_packs_exist() {
  for (const char* dir : {"data/", "meta/"})
    repo_.backend().list(dir, [&](const ObjectInfo& o) { pack_files_[o.name] = o.size; });
  std::unordered_set<std::string> indexed;
  for (const auto& [id, type] : index_.packs()) {
    std::string name = pack_name(type, id);
    indexed.insert(name);
    auto it = pack_files_.find(name);
    if (it == pack_files_.end()) {
      error(name, "pack is listed in the index but missing from the repository");
      for (const auto& [bid, b] : by_pack_[id]) bad_blobs_.insert(bid);
      continue;
    }
    uint64_t end = 0;
    for (const auto& [bid, b] : by_pack_[id]) end = std::max<uint64_t>(end, uint64_t(b.offset) + b.length);
    if (end + 4 > it->second) {
      error(name, "pack is shorter (" + std::to_string(it->second) + " bytes) than its index entries need");
      for (const auto& [bid, b] : by_pack_[id])
        if (uint64_t(b.offset) + b.length > it->second) bad_blobs_.insert(bid);
    }
  }
  for (const auto& [name, size] : pack_files_)
    if (!indexed.count(name))
      result_.notes.push_back({name, "pack is not in any index (left by an interrupted backup; harmless)"});
  result_.packs = pack_files_.size();
  uint64_t staging = 0;
  repo_.backend().list("tmp/", [&](const ObjectInfo&) { staging++; });
  if (staging)
    result_.notes.push_back({"tmp/", std::to_string(staging) +
                                         " staging file(s) of interrupted or running backups (harmless; safe to "
                                         "delete when no backup is running)"});
}

void Checker::check_tree(const Id& tree, const std::string& snap, const std::string& path) {
  if (!trees_seen_.insert(tree).second) return;
  result_.trees++;
  auto loc = index_.find(tree);
  if (!loc) {
    error("tree " + tree.short_hex(), "missing (needed by snapshot " + snap + " at '" + path + "')");
    bad_blobs_.insert(tree);
    return;
  }
  Tree t;
  try {
    t = decode_tree(repo_.read_blob(tree, *loc), "tree " + tree.short_hex());
  } catch (const Error& e) {
    error("tree " + tree.short_hex(), std::string(e.what()) + " (snapshot " + snap + ", '" + path + "')");
    bad_blobs_.insert(tree);
    return;
  }
  for (const auto& n : t.nodes) {
    std::string p = path.empty() ? n.name : path + "/" + n.name;
    if (n.type == NodeType::Dir) check_tree(*n.subtree, snap, p);
    for (const auto& id : n.content) {
      if (!index_.has(id)) {
        error("blob " + id.short_hex(), "missing: needed by snapshot " + snap + " file '" + p + "'");
        bad_blobs_.insert(id);
      }
    }
  }
}

void Checker::check_snapshots() {
  std::vector<std::string> names;
  repo_.backend().list("snapshots/", [&](const ObjectInfo& o) { names.push_back(o.name); });
  for (const auto& n : names) {
    try {
      Bytes plain = repo_.load_object(n);
      snapshots_.push_back(Snapshot::from_json(nlohmann::json::parse(plain.begin(), plain.end()),
                                               Id::from_hex(n.substr(10))));
    } catch (const std::exception& e) {
      error(n, e.what());
    }
  }
  result_.snapshots = snapshots_.size();
  for (const auto& s : snapshots_) check_tree(s.tree, s.id.short_hex(), "");
}

void Checker::read_pack(const std::string& name, BlobType type, const Id& id) {
  Bytes data;
  try {
    data = repo_.backend().get(name);
  } catch (const Error& e) {
    error(name, e.what());
    return;
  }
  progress_.bytes_done += data.size();
  {
    std::lock_guard lk(mu_);
    result_.packs_read++;
    result_.bytes_read += data.size();
  }
  try {
    if (pack_id_of(data, name) != id) error(name, "pack header does not match the pack's name (corrupted)");
    BlobType header_type;
    auto blobs = parse_pack_header(repo_.keys(), data, data.size(), name, &header_type);
    if (header_type != type) error(name, "pack header type does not match its directory");
    std::unordered_set<Id, IdHash> in_header;
    for (const auto& b : blobs) in_header.insert(b.id);
    for (const auto& [bid, b] : by_pack_.at(id))
      if (!in_header.count(bid)) error(name, "index lists blob " + bid.short_hex() + " that the pack header lacks");
  } catch (const Error& e) {
    error(name, e.what());
  }
  // Every blob the index places in this pack must authenticate and match its id.
  for (const auto& [bid, b] : by_pack_.at(id)) {
    std::string what = "blob " + bid.short_hex() + " in " + name;
    try {
      if (uint64_t(b.offset) + b.length > data.size()) throw Error(ErrorKind::Corrupt, what + " lies beyond the pack's end");
      Bytes plain = unseal(repo_.keys(), ByteView(data).subspan(b.offset, b.length), what);
      if (plain.size() != b.raw_length || repo_.blob_id(plain) != bid)
        throw Error(ErrorKind::Corrupt, what + ": content does not match its id");
    } catch (const Error& e) {
      error(name, e.what());
      std::lock_guard lk(mu_);
      bad_blobs_.insert(bid);
    }
  }
}

void Checker::read_packs() {
  std::vector<std::pair<Id, BlobType>> packs;
  for (const auto& p : index_.packs())
    if (pack_files_.count(pack_name(p.second, p.first))) packs.push_back(p);
  if (opts_.subset < 1.0) {
    std::mt19937_64 rng(std::random_device{}());
    std::shuffle(packs.begin(), packs.end(), rng);
    size_t keep = std::max<size_t>(1, size_t(double(packs.size()) * opts_.subset + 0.999999));
    if (packs.size() > keep) packs.resize(keep);
  }
  for (const auto& p : packs) progress_.bytes_total += pack_files_[pack_name(p.second, p.first)];
  progress_.totals_known = true;
  std::atomic<size_t> next{0};
  // One reader per core, or per transfer slot where reads are round trips (object stores).
  unsigned n = opts_.threads ? opts_.threads
                             : std::max({1u, std::thread::hardware_concurrency(), repo_.backend().parallelism()});
  std::vector<std::thread> pool;
  for (unsigned i = 0; i < n; i++)
    pool.emplace_back([&] {
      for (size_t k; (k = next++) < packs.size();) {
        read_pack(pack_name(packs[k].second, packs[k].first), packs[k].second, packs[k].first);
        progress_.files_done++;
      }
    });
  for (auto& t : pool) t.join();
}

// Walks with the checker's own index (which skipped damaged index files) and goes on past
// damaged trees, reporting a directory whose listing is lost as "dir/".
void Checker::map_tree(const std::string& snap, const Id& tree, const std::string& path) {
  auto loc = index_.find(tree);
  Tree t;
  try {
    if (!loc || bad_blobs_.count(tree)) throw Error(ErrorKind::Corrupt, "tree unavailable");
    t = decode_tree(repo_.read_blob(tree, *loc), "tree " + tree.short_hex());
  } catch (const Error&) {
    result_.affected.push_back({snap, path.empty() ? "/" : path + "/"});
    return;
  }
  for (const auto& n : t.nodes) {
    std::string p = path.empty() ? n.name : path + "/" + n.name;
    if (n.type == NodeType::Dir) {
      map_tree(snap, *n.subtree, p);
      continue;
    }
    for (const auto& id : n.content)
      if (bad_blobs_.count(id)) {
        result_.affected.push_back({snap, p});
        break;
      }
  }
}

void Checker::map_affected() {
  for (const auto& s : snapshots_) map_tree(s.id.short_hex(), s.tree, "");
}

// The PostgreSQL WAL archive lives outside packs: each object is sealed on its own. Listing
// counts them; reading data authenticates every one.
void Checker::check_wal() {
  std::vector<std::string> names;
  repo_.backend().list("wal/", [&](const ObjectInfo& o) { names.push_back(o.name); });
  result_.wal_objects = names.size();
  if (!opts_.read_data || names.empty()) return;
  std::mutex mu;
  unsigned threads = opts_.threads ? opts_.threads : std::max(std::thread::hardware_concurrency(), repo_.backend().parallelism());
  parallel_for(names.size(), threads, [&](size_t i) {
    try {
      Bytes b = repo_.load_object(names[i]);
      std::lock_guard lk(mu);
      result_.wal_read++;
      result_.bytes_read += b.size();
    } catch (const Error& e) {
      std::lock_guard lk(mu);
      error(names[i], e.what());
    }
  });
}

// Prune marks and locks steer what prune may delete: one that cannot be read is an error (prune
// refuses to run, and writers stop deduplicating) until it is mended.
void Checker::check_marks_and_locks() {
  try {
    load_prune_marks(repo_);
  } catch (const Error& e) {
    error("prune/", e.what());
  }
  try {
    load_locks(repo_);
  } catch (const Error& e) {
    error("locks/", e.what());
  }
}

CheckResult Checker::run() {
  load_index();
  check_packs_exist();
  check_snapshots();
  for (const auto& p : index_.packs()) result_.data_blobs += p.second == BlobType::Data ? by_pack_[p.first].size() : 0;
  if (opts_.read_data) read_packs();
  check_wal();
  check_marks_and_locks();
  if (!bad_blobs_.empty()) map_affected();
  return std::move(result_);
}

}  // namespace

CheckResult check_repository(Repository& repo, const CheckOptions& opts, ProgressCounters& progress) {
  Checker c(repo, opts, progress);
  return c.run();
}

}  // namespace arca
