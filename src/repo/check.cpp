#include "repo/check.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "crypto/hash.h"
#include "repo/decode_guard.h"
#include "repo/envelope.h"
#include "repo/future_points.h"
#include "repo/locks.h"
#include "repo/object_families.h"
#include "repo/object_names.h"
#include "repo/point_signature.h"
#include "repo/prune_marks.h"
#include "repo/repair_scan.h"
#include "repo/tree_walk.h"
#include "repo/writer_sessions.h"
#include "util/cancel.h"
#include "util/clock.h"
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
  void scan_unindexed_packs();
  void classify_unindexed_packs();
  void check_keys();
  void report_missing_key_versions();
  // Remembers an object sealed with a data key version the keyring lacks; true if so.
  bool note_key_version(const std::string& object, std::optional<uint32_t> version);
  // Indexed first, then packs no intact index lists (read from their headers).
  std::optional<BlobLocation> find(const Id& blob, const std::string& needed_by);
  void check_snapshots();
  void check_tree(const Id& root, const std::string& snap);
  void read_packs();
  void read_pack(const std::string& name, BlobType type, const Id& id);
  void list_families();
  void check_authenticated_families();
  void check_loaded_families();
  bool intact_copy(const Id& blob, const Index& ix);
  void forgive_blobs_stored_intact_elsewhere();
  void map_affected();
  void map_tree(const std::string& snap, const Id& root);
  bool damage_below(const Id& root);
  static constexpr size_t kMaxAffectedPerPoint = 100000;
  void error(const std::string& object, const std::string& msg) {
    std::lock_guard lk(mu_);
    result_.errors.push_back({object, without_name(msg, object)});  // the object is named once
  }

  Repository& repo_;
  const CheckOptions& opts_;
  ProgressCounters& progress_;
  Index index_;
  std::map<Id, std::vector<std::pair<Id, PackedBlob>>> by_pack_;  // pack -> blobs per index
  std::map<std::string, uint64_t> pack_files_;                    // name -> size
  Index unindexed_;                                               // packs no intact index lists, from their headers
  std::map<std::string, std::string> unreadable_unindexed_;       // pack -> why its header cannot be read
  std::map<std::string, std::string> needed_unindexed_;           // pack -> a snapshot path that needs it
  std::map<uint32_t, std::set<std::string>> missing_key_users_;   // lost key version -> objects sealed with it
  uint64_t damaged_snapshots_ = 0, damaged_index_ = 0;
  struct FamilyObjects {
    const ObjectFamily* family;
    std::vector<std::string> names;
    uint64_t bytes = 0;
  };
  std::vector<FamilyObjects> authenticated_;  // objects of CheckRule::Authenticate families
  std::vector<Snapshot> snapshots_;
  std::unordered_set<Id, IdHash> trees_seen_;
  std::unordered_map<Id, TreeShape, IdHash> shapes_;    // trees read, for the expanded sizes of points
  std::unordered_set<Id, IdHash> bad_blobs_;            // blobs with a damaged or missing copy
  std::unordered_map<Id, bool, IdHash> damaged_below_;  // tree -> anything below it damaged (map_tree)
  std::set<std::pair<Id, Id>> bad_copies_;              // (blob, pack) copies found damaged or missing
  std::unordered_set<Id, IdHash> packs_read_;           // packs read in full (their other blobs are intact)
  std::mutex mu_;
  CheckResult result_;
};

void Checker::load_index() {
  std::vector<std::string> names;
  repo_.backend().list(names::kIndexPrefix, [&](const ObjectInfo& o) { names.push_back(o.name); });
  std::mutex mu;  // each file is merged as soon as it is decoded
  parallel_for(
      names.size(), repo_.backend().parallelism(),
      [&](size_t i) {
        try {
          Bytes sealed = repo_.backend().get(names[i]);
          note_key_version(names[i], sealed_key_version(sealed));
          auto packs = decode_guarded(
              names[i], [&] { return decode_index_file(unseal(repo_.keys(), sealed, names[i], names[i]), names[i]); });
          std::lock_guard lk(mu);
          for (const auto& p : packs) {
            index_.add(p);
            auto& v = by_pack_[p.pack];
            if (v.empty())
              for (const auto& b : p.blobs) v.emplace_back(b.id, b);
          }
        } catch (const Error& e) {
          if (e.kind() != ErrorKind::Corrupt) {
            error(names[i], e.what());
            return;
          }
          error(names[i],
                std::string(e.what()) +
                    "; the packs it listed are read from their headers until 'arca repair index' rebuilds the index");
          std::lock_guard lk(mu);
          damaged_index_++;
        }
      },
      opts_.cancel, "check");
  index_.finalize();
}

void Checker::check_packs_exist() {
  for (BlobType t : {BlobType::Data, BlobType::Tree})
    repo_.backend().list(names::pack_prefix(t), [&](const ObjectInfo& o) { pack_files_[o.name] = o.size; });
  for (const auto& [id, type] : index_.packs()) {
    std::string name = pack_name(type, id);
    auto it = pack_files_.find(name);
    if (it == pack_files_.end()) {
      error(name, "pack is listed in the index but missing from the repository");
      for (const auto& [bid, b] : by_pack_[id]) bad_blobs_.insert(bid), bad_copies_.insert({bid, id});
      continue;
    }
    uint64_t end = 0;
    for (const auto& [bid, b] : by_pack_[id]) end = std::max<uint64_t>(end, uint64_t(b.offset) + b.length);
    if (end + 4 > it->second) {
      error(name, "pack is shorter (" + std::to_string(it->second) + " bytes) than its index entries need");
      for (const auto& [bid, b] : by_pack_[id])
        if (uint64_t(b.offset) + b.length > it->second) bad_blobs_.insert(bid), bad_copies_.insert({bid, id});
    }
  }
  result_.packs = pack_files_.size();
  uint64_t staging = 0;
  repo_.backend().list(names::kStagingPrefix, [&](const ObjectInfo&) { staging++; });
  if (staging)
    result_.notes.push_back(
        {names::kStagingPrefix, std::to_string(staging) +
                                    " staging file(s) of interrupted or running backups (harmless; safe to "
                                    "delete when no backup is running)"});
}

bool Checker::note_key_version(const std::string& object, std::optional<uint32_t> version) {
  if (!version || *version == 0 || repo_.keys().find(*version)) return false;
  std::lock_guard lk(mu_);
  missing_key_users_[*version].insert(object);
  return true;
}

std::optional<BlobLocation> Checker::find(const Id& blob, const std::string& needed_by) {
  if (auto loc = index_.find(blob)) return loc;
  auto loc = unindexed_.find(blob);
  if (loc && !needed_by.empty()) needed_unindexed_.try_emplace(pack_name(loc->type, loc->pack), needed_by);
  return loc;
}

// Packs no intact index file lists are read from their own headers: a damaged index object must
// not make its packs look like leftovers (they may be the only copies of a snapshot's data).
void Checker::scan_unindexed_packs() {
  std::map<std::string, uint64_t> todo;
  for (const auto& [name, size] : pack_files_) {
    auto parsed = parse_pack_name(name);
    if (parsed && !index_.has_pack(parsed->first)) todo.emplace(name, size);
  }
  unsigned threads = std::max({4u, repo_.backend().parallelism()});
  for (auto& sp : scan_pack_headers(repo_.backend(), repo_.keys(), todo, threads)) {
    if (!sp.error.empty()) {
      // A pack sealed with a lost key version is reported with that version, not as damage.
      if (!note_key_version(sp.name, sp.key_version)) unreadable_unindexed_[sp.name] = sp.error;
      continue;
    }
    auto& v = by_pack_[sp.pack.pack];
    for (const auto& b : sp.pack.blobs) v.emplace_back(b.id, b);
    unindexed_.add(sp.pack);
  }
  unindexed_.finalize();
}

// Whether `ix` lists a copy of the blob not found damaged or missing (with read_data: in a pack
// read in full, so proven intact).
bool Checker::intact_copy(const Id& blob, const Index& ix) {
  for (const auto& l : ix.copies(blob)) {
    if (bad_copies_.count({blob, l.pack}) || !pack_files_.count(pack_name(l.type, l.pack))) continue;
    if (!opts_.read_data || packs_read_.count(l.pack)) return true;
  }
  return false;
}

// A blob with a damaged copy and an intact one elsewhere (concurrent backups stored it twice)
// damages no file: restores read the intact copy. The damaged copy stays an error.
void Checker::forgive_blobs_stored_intact_elsewhere() {
  for (auto it = bad_blobs_.begin(); it != bad_blobs_.end();)
    if (opts_.read_data && (intact_copy(*it, index_) || intact_copy(*it, unindexed_)))
      it = bad_blobs_.erase(it);
    else
      ++it;
}

// Only a pack whose every blob is also in an indexed pack (intact, if this run read it) is called
// harmless; one holding the only intact copy of a blob is an error.
void Checker::classify_unindexed_packs() {
  for (const auto& [name, why] : unreadable_unindexed_)
    error(name, "pack is in no index and its header cannot be read (" + why +
                    "); any blob only it holds is lost (run 'arca check --read-data' after 'arca repair index')");
  // A running backup's packs are in no index until it ends: say so rather than "interrupted".
  std::string running;
  if (!unindexed_.packs().empty()) {
    size_t n = 0;
    for (const auto& w : list_writers(repo_))
      if (!writer_is_stale(w) && n++ == 0) running = describe(w);
    if (n)
      running = (n == 1 ? "a backup is running (" : std::to_string(n) + " backups are running (first: ") + running +
                ", registered in writers/): the pack is most likely its data, indexed when it ends";
  }
  for (const auto& [id, type] : unindexed_.packs()) {
    std::string name = pack_name(type, id);
    if (auto it = needed_unindexed_.find(name); it != needed_unindexed_.end()) {
      error(name, "pack is in no index but holds data recovery points need (" + it->second +
                      "); restores read it from its header meanwhile; run 'arca repair index'");
      continue;
    }
    bool elsewhere = true;
    std::vector<std::string> only_here;  // blobs whose indexed copies are all damaged or missing
    for (const auto& [bid, b] : by_pack_[id]) {
      if (intact_copy(bid, index_)) continue;
      elsewhere = false;
      if (index_.has(bid) && only_here.size() < 5) only_here.push_back(bid.short_hex());
    }
    if (!only_here.empty()) {
      std::string list;
      for (const auto& b : only_here) list += (list.empty() ? "" : ", ") + b;
      error(name,
            "pack is in no index and holds the only intact copy of blob(s) whose indexed copy is damaged or "
            "missing (" +
                list + "): keep it; run 'arca repair index'");
    } else if (!running.empty() && !damaged_snapshots_)
      result_.notes.push_back({name, "pack is in no index yet: " + running});
    else if (elsewhere)
      result_.notes.push_back(
          {name,
           "pack is in no index; every blob in it is also stored in an indexed pack "
           "(a duplicate left by an interrupted backup or prune; harmless, 'arca prune' removes it)"});
    else if (damaged_snapshots_)
      error(name, "pack is in no index, and " + std::to_string(damaged_snapshots_) +
                      " damaged snapshot object(s) may need its data: keep it (run 'arca repair index')");
    else
      result_.notes.push_back({name,
                               "pack is in no index and no snapshot needs its data (left by an interrupted "
                               "backup; 'arca prune' removes it)"});
  }
}

// Key files that cannot be used (any one opens the repository, so others still work), and gaps
// in the keyring's versions.
void Checker::check_keys() {
  for (const auto& [id, why] : damaged_key_files(repo_.backend()))
    error(names::key_file(id), "key file is damaged (" + why + "); it opens nothing: remove it with 'arca key remove " +
                                   id.substr(0, 8) + "' or put back a copy");
  for (const auto& d : repo_.damaged_keyring()) {
    // "keyring/00000002 …": its version is missing for this session.
    if (auto v = names::parse_keyring_entry(std::string_view(d).substr(0, d.find(' ')))) missing_key_users_[*v];
    error(d.substr(0, d.find(' ')), d);
  }
  uint32_t newest = repo_.keys().current_version();
  for (uint32_t v = 1; v < newest; v++)
    if (!repo_.keys().find(v)) missing_key_users_[v];
}

static std::string keyring_object(uint32_t version) { return names::keyring_entry(version); }

// One error per lost data key version, naming what is sealed with it.
void Checker::report_missing_key_versions() {
  for (const auto& [v, users] : missing_key_users_) {
    size_t idx = 0, snaps = 0, packs = 0;
    for (const auto& u : users) {
      if (names::parse_index_file(u))
        idx++;
      else if (names::parse_snapshot(u))
        snaps++;
      else
        packs++;
    }
    std::string msg =
        "data key version " + std::to_string(v) + " is not available (its keyring object is missing or damaged); ";
    if (users.empty()) {
      msg += "no object checked is sealed with it";
    } else {
      msg += "sealed with it and unreadable: " + std::to_string(idx) + " index object(s), " + std::to_string(snaps) +
             " snapshot(s), " + std::to_string(packs) + " pack(s) (";
      size_t n = 0;
      for (const auto& u : users) {
        if (n++ == 6) {
          msg += ", …";
          break;
        }
        msg += (n > 1 ? ", " : "") + u;
      }
      msg += ")";
    }
    std::string n = std::to_string(v);
    error(keyring_object(v), msg +
                                 ". This is not damage of those objects, and recovery points whose data uses other "
                                 "key versions stay restorable. Restore " +
                                 keyring_object(v) +
                                 " first (from a copy of "
                                 "the repository or a backup of it); only if it is truly lost for good, 'arca repair "
                                 "snapshots --lost-key-version " +
                                 n + "' and 'arca repair index --lost-key-version " + n +
                                 "' clear what cannot be read");
  }
}

// Iterative, with the depth bounded: a planted chain of nested trees is reported, not a stack
// overflow (docs/security.md, "Tree depth").
void Checker::check_tree(const Id& root, const std::string& snap) {
  struct Todo {
    Id tree;
    std::string path;
    size_t depth;
  };
  std::vector<Todo> stack{{root, "", 1}};
  while (!stack.empty()) {
    check_cancel(opts_.cancel, "check");
    Todo todo = std::move(stack.back());
    stack.pop_back();
    const Id& tree = todo.tree;
    const std::string& path = todo.path;
    if (todo.depth > kMaxTreeDepth) {
      error("snapshot " + snap, tree_too_deep("snapshot " + snap, path).what());
      continue;
    }
    if (!trees_seen_.insert(tree).second) continue;
    result_.trees++;
    auto loc = find(tree, "snapshot " + snap + " at '" + path + "'");
    if (!loc) {
      error("tree " + tree.short_hex(), "missing (needed by snapshot " + snap + " at '" + path + "')");
      bad_blobs_.insert(tree);
      continue;
    }
    Tree t;
    try {
      t = decode_tree(repo_.read_blob(tree, *loc), "tree " + tree.short_hex());
    } catch (const Error& e) {
      error("tree " + tree.short_hex(), std::string(e.what()) + " (snapshot " + snap + ", '" + path + "')");
      bad_blobs_.insert(tree);
      continue;
    }
    shapes_.emplace(tree, tree_shape(t));
    size_t first_child = stack.size();
    for (const auto& n : t.nodes) {
      std::string p = path.empty() ? n.name : path + "/" + n.name;
      if (p.size() > kMaxPathBytes) {
        error("snapshot " + snap, path_too_long("snapshot " + snap, p).what());
        continue;
      }
      for (const auto& id : n.content) {
        if (!index_.has(id) && !find(id, "snapshot " + snap + " file '" + p + "'")) {
          error("blob " + id.short_hex(), "missing: needed by snapshot " + snap + " file '" + p + "'");
          bad_blobs_.insert(id);
        }
      }
      if (n.type == NodeType::Dir) stack.push_back({*n.subtree, std::move(p), todo.depth + 1});
    }
    std::reverse(stack.begin() + ptrdiff_t(first_child), stack.end());  // visited in name order
  }
}

void Checker::check_snapshots() {
  std::vector<std::string> names;
  repo_.backend().list(names::kSnapshotsPrefix, [&](const ObjectInfo& o) { names.push_back(o.name); });
  for (const auto& n : names) {
    check_cancel(opts_.cancel, "check");
    try {
      Bytes sealed = repo_.backend().get(n);
      note_key_version(n, sealed_key_version(sealed));
      Bytes plain = unseal(repo_.keys(), sealed, n, n);
      snapshots_.push_back(Snapshot::from_json(nlohmann::json::parse(plain.begin(), plain.end()),
                                               Id::from_hex(names::snapshot_id_text(n))));
    } catch (const std::exception& e) {
      error(n, e.what());
      damaged_snapshots_++;
    }
  }
  result_.snapshots = snapshots_.size();
  for (const auto& s : snapshots_) check_tree(s.tree, s.id.short_hex());
  // Each tree was read once above; a point repeating subtrees until it expands to billions of
  // entries is named here, in O(unique trees) (docs/security.md, "Tree depth").
  std::unordered_map<Id, uint64_t, IdHash> memo;
  auto shape = [&](const Id& id) -> std::optional<TreeShape> {
    auto it = shapes_.find(id);
    return it == shapes_.end() ? std::nullopt : std::optional<TreeShape>(it->second);
  };
  for (const auto& s : snapshots_)
    if (expanded_entries(s.tree, shape, memo) > kMaxTreeEntries)
      error("snapshot " + s.id.short_hex(), tree_too_large("snapshot " + s.id.short_hex()).what());
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
    note_key_version(name, pack_header_key_version(data));
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
    if (cancel_requested(opts_.cancel)) return;    // not counted as read; read_packs() throws
    std::string what = "blob " + bid.short_hex();  // error() names the pack
    try {
      if (uint64_t(b.offset) + b.length > data.size())
        throw Error(ErrorKind::Corrupt, what + " lies beyond the pack's end");
      ByteView sealed = ByteView(data).subspan(b.offset, b.length);
      note_key_version(name, sealed_key_version(sealed));
      Bytes plain = unseal(repo_.keys(), sealed, what, {}, b.raw_length);  // docs/security.md, "Decompression"
      if (plain.size() != b.raw_length || repo_.blob_id(plain) != bid)
        throw Error(ErrorKind::Corrupt, what + ": content does not match its id");
    } catch (const Error& e) {
      error(name, e.what());
      std::lock_guard lk(mu_);
      bad_blobs_.insert(bid);
      bad_copies_.insert({bid, id});
    }
  }
  std::lock_guard lk(mu_);
  packs_read_.insert(id);
}

void Checker::read_packs() {
  std::vector<std::pair<Id, BlobType>> packs;
  for (const Index* ix : {&index_, &unindexed_})
    for (const auto& p : ix->packs())
      if (pack_files_.count(pack_name(p.second, p.first))) packs.push_back(p);
  if (opts_.groups) {
    // A pack's group comes from its id (the first four bytes, big-endian, modulo the group
    // count): the same in every run, independent of the other packs, even across new packs.
    std::erase_if(packs, [&](const auto& p) {
      const auto& b = p.first.b;
      uint32_t v = uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | uint32_t(b[3]);
      return v % opts_.groups != opts_.group - 1;
    });
  } else if (opts_.subset < 1.0) {
    std::mt19937_64 rng(std::random_device{}());
    std::shuffle(packs.begin(), packs.end(), rng);
    size_t keep = std::max<size_t>(1, size_t(double(packs.size()) * opts_.subset + 0.999999));
    if (packs.size() > keep) packs.resize(keep);
  }
  // Totals before the first read (so the display never shows 0/0 or 100% early); the WAL
  // objects check_authenticated_families() reads next count as items too.
  uint64_t bytes = 0;
  for (const auto& p : packs) bytes += pack_files_[pack_name(p.second, p.first)];
  progress_.files_total = packs.size();
  progress_.bytes_total = bytes;
  for (const auto& f : authenticated_) progress_.files_total += f.names.size(), progress_.bytes_total += f.bytes;
  progress_.totals_known = true;
  std::atomic<size_t> next{0};
  // One reader per core, or per transfer slot where reads are round trips (object stores).
  unsigned n = opts_.threads ? opts_.threads
                             : std::max({1u, std::thread::hardware_concurrency(), repo_.backend().parallelism()});
  std::vector<std::thread> pool;
  for (unsigned i = 0; i < n; i++)
    pool.emplace_back([&] {
      for (size_t k; !cancel_requested(opts_.cancel) && (k = next++) < packs.size();) {
        read_pack(pack_name(packs[k].second, packs[k].first), packs[k].second, packs[k].first);
        progress_.files_done++;
      }
    });
  for (auto& t : pool) t.join();
  check_cancel(opts_.cancel, "check");  // packs left unread: no verdict
}

// Whether anything below `root` is damaged, each tree read once (memoized in damaged_below_
// across points): map_tree then skips intact subtrees however often a point repeats them.
bool Checker::damage_below(const Id& root) {
  struct Frame {
    Id tree;
    std::vector<Id> subdirs;
    size_t next = 0;
    bool bad = false;
  };
  auto frame = [&](const Id& id) {
    Frame f{id, {}, 0, false};
    auto loc = find(id, "");
    try {
      if (!loc || bad_blobs_.count(id)) throw Error(ErrorKind::Corrupt, "tree unavailable");
      Tree t = decode_tree(repo_.read_blob(id, *loc), "tree " + id.short_hex());
      for (const auto& n : t.nodes) {
        if (n.type == NodeType::Dir && n.subtree) f.subdirs.push_back(*n.subtree);
        for (const auto& c : n.content) f.bad = f.bad || bad_blobs_.count(c);
      }
    } catch (const Error&) {
      f.bad = true;
    }
    return f;
  };
  if (auto it = damaged_below_.find(root); it != damaged_below_.end()) return it->second;
  std::vector<Frame> stack;
  stack.push_back(frame(root));
  bool result = false;
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.next < f.subdirs.size() && stack.size() < kMaxTreeDepth) {
      Id child = f.subdirs[f.next++];
      if (auto it = damaged_below_.find(child); it != damaged_below_.end())
        f.bad = f.bad || it->second;
      else
        stack.push_back(frame(child));  // `f` is not used after this
      continue;
    }
    result = f.bad;
    damaged_below_[f.tree] = result;
    stack.pop_back();
    if (!stack.empty()) stack.back().bad = stack.back().bad || result;
  }
  return result;
}

// Walks with the checker's own index (which skipped damaged index files) and goes on past
// damaged trees, reporting a directory whose listing is lost as "dir/". Only subtrees holding
// damage are entered, and at most kMaxAffectedPerPoint paths are listed per point: a planted
// point repeating one damaged subtree 2^64 times is listed briefly (docs/security.md).
void Checker::map_tree(const std::string& snap, const Id& root) {
  struct Todo {
    Id tree;
    std::string path;
    size_t depth;
  };
  size_t listed = 0;
  auto affected = [&](std::string path) {
    if (listed++ == kMaxAffectedPerPoint) path = "… (more paths of this point not listed)";
    if (listed <= kMaxAffectedPerPoint + 1) result_.affected.push_back({snap, std::move(path)});
  };
  std::vector<Todo> stack{{root, "", 1}};
  while (!stack.empty() && listed <= kMaxAffectedPerPoint) {
    Todo todo = std::move(stack.back());
    stack.pop_back();
    if (todo.depth > kMaxTreeDepth) continue;  // check_tree reported it
    const std::string& path = todo.path;
    if (!damage_below(todo.tree)) continue;
    auto loc = find(todo.tree, "");
    Tree t;
    try {
      if (!loc || bad_blobs_.count(todo.tree)) throw Error(ErrorKind::Corrupt, "tree unavailable");
      t = decode_tree(repo_.read_blob(todo.tree, *loc), "tree " + todo.tree.short_hex());
    } catch (const Error&) {
      affected(path.empty() ? "/" : path + "/");
      continue;
    }
    size_t first_child = stack.size();
    for (const auto& n : t.nodes) {
      std::string p = path.empty() ? n.name : path + "/" + n.name;
      if (p.size() > kMaxPathBytes) continue;  // check_tree reported it
      if (n.type == NodeType::Dir) {
        stack.push_back({*n.subtree, std::move(p), todo.depth + 1});
        continue;
      }
      for (const auto& id : n.content)
        if (bad_blobs_.count(id)) {
          affected(p);
          break;
        }
    }
    std::reverse(stack.begin() + ptrdiff_t(first_child), stack.end());
  }
}

void Checker::map_affected() {
  for (const auto& s : snapshots_) map_tree(s.id.short_hex(), s.tree);
}

// Families outside packs are sealed object by object (repo/object_families.h): listing counts
// them; reading data authenticates every one.
void Checker::list_families() {
  for (const auto& family : object_families()) {
    if (family.check != CheckRule::Authenticate) continue;
    FamilyObjects f{&family, {}, 0};
    repo_.backend().list(std::string(family.prefix), [&](const ObjectInfo& o) {
      f.names.push_back(o.name);
      f.bytes += o.size;
    });
    authenticated_.push_back(std::move(f));
  }
}

void Checker::check_authenticated_families() {
  for (const auto& f : authenticated_) {
    FamilyCount count{std::string(f.family->id), f.names.size(), 0};
    const auto& names = f.names;
    if (opts_.read_data && !names.empty()) {
      std::mutex mu;
      unsigned threads =
          opts_.threads ? opts_.threads : std::max(std::thread::hardware_concurrency(), repo_.backend().parallelism());
      parallel_for(
          names.size(), threads,
          [&](size_t i) {
            try {
              Bytes b = repo_.load_object(names[i]);
              progress_.files_done++;
              progress_.bytes_done += b.size();
              std::lock_guard lk(mu);
              count.read++;
              count.bytes_read += b.size();
            } catch (const Error& e) {
              if (e.kind() == ErrorKind::NotFound && f.family->retention != Retention::Never) return;  // removed since
              std::lock_guard lk(mu);
              error(names[i], e.what());
            }
          },
          opts_.cancel, "check");
    }
    result_.families.push_back(std::move(count));
  }
  // The WAL archive's figures are reported on their own (and its bytes with the packs').
  for (const auto& c : result_.families)
    if (c.family == "wal")
      result_.wal_objects = c.objects, result_.wal_read = c.read, result_.bytes_read += c.bytes_read;
}

// Families such as prune marks and locks steer what prune may delete: one that cannot be read is
// an error (prune refuses to run, and writers stop deduplicating) until it is mended.
void Checker::check_loaded_families() {
  for (const auto& family : object_families()) {
    if (family.check != CheckRule::Load || !family.load) continue;
    try {
      family.load(repo_);
    } catch (const Error& e) {
      error(std::string(family.prefix), e.what());
    }
  }
}

CheckResult Checker::run() {
  const CancelToken* cancel = opts_.cancel;
  check_keys();
  load_index();
  check_packs_exist();
  check_cancel(cancel, "check");
  scan_unindexed_packs();
  check_cancel(cancel, "check");
  check_snapshots();
  // A warning, not damage (see docs/security.md, "Future-dated recovery points").
  for (auto& [id, why] : future_dated_points(snapshots_, clock_now()))
    result_.warnings.push_back(
        {names::snapshot(id),
         "future-dated: " + why +
             "; it is never 'latest' and forget "
             "does not count it (a host clock set forward, or a point planted with a host's key)"});
  auto public_keys = signing_public_keys(repo_.backend());
  for (const auto& s : snapshots_)
    if (verify_point(s, public_keys) == PointSignature::Bad)
      result_.warnings.push_back(
          {names::snapshot(s.id), "its signature does not verify for key " + printable(s.key_id.substr(0, 8)) +
                                      ": the key record was forged by another key holder (or the object copied)"});
  for (const Index* ix : {&index_, &unindexed_})
    for (const auto& p : ix->packs()) result_.data_blobs += p.second == BlobType::Data ? by_pack_[p.first].size() : 0;
  list_families();
  check_cancel(cancel, "check");
  if (opts_.read_data) read_packs();
  classify_unindexed_packs();  // after reading: only intact copies count as "stored elsewhere"
  forgive_blobs_stored_intact_elsewhere();
  check_cancel(cancel, "check");
  check_authenticated_families();
  check_loaded_families();
  report_missing_key_versions();
  if (!bad_blobs_.empty()) map_affected();
  check_cancel(cancel, "check");
  return std::move(result_);
}

}  // namespace

CheckResult check_repository(Repository& repo, const CheckOptions& opts, ProgressCounters& progress) {
  Checker c(repo, opts, progress);
  return c.run();
}

}  // namespace arca
