// Objects a compromised host can write with its append-only key (issue 18, docs/security.md):
// an index object declaring 2^31 packs, a chain of 30,000 nested trees, zstd frames declaring
// gigabytes. Each is written through the project's own code with an append-only key; the
// operator's ordinary commands must report it clearly, not crash, and keep other points usable.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "crypto/aead.h"
#include "crypto/random.h"
#include "repo/blob_writer.h"
#include "repo/check.h"
#include "repo/envelope.h"
#include "repo/index.h"
#include "repo/locks.h"
#include "repo/object_lock.h"
#include "repo/tree_walk.h"
#include "restore/restore.h"
#include "sources/common/stream_tree.h"
#include "sources/postgres/cluster_safety.h"
#include "storage/local_backend.h"
#include "test_util.h"
#include "util/clock.h"
#include "util/error.h"

using namespace arca;

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif
#else
constexpr bool kAsan = false;
#endif

// What "in seconds" allows: the walks these bounds guard against never end (2^64 paths), while the
// bounded work takes 5 s in a Release build and 20-30 s under ASan on two busy cores.
constexpr int kBoundS = kAsan ? 120 : 30;

const Credentials kOperator{"pw", {}};
const Credentials kHost{"host-pw", {}};

// A repository with a genuine point of host "good" (written by the operator) and an append-only
// key for a compromised host.
struct HostileRepo {
  TempDir dir;
  std::string path = dir.path + "/repo";
  Snapshot good;
  std::vector<std::string> warnings;

  HostileRepo() {
    auto repo = make_test_repo(path);
    good = store_point(*repo, "good", "hello.txt", as_view(std::string("hello, world\n")));
    LocalBackend b(path);
    add_key_file(b, repo->keys().master, kHost, {1, 8, 1}, KeyRole::AppendOnly);
  }
  std::unique_ptr<Repository> open(const Credentials& c) {
    auto repo = Repository::open(std::make_unique<LocalBackend>(path), c);
    repo->set_warning_handler([this](const std::string& m) { warnings.push_back(m); });
    return repo;
  }
  std::unique_ptr<Repository> attacker() {
    auto repo = open(kHost);
    EXPECT_TRUE(repo->append_only());
    return repo;
  }

  static Snapshot store_point(Repository& repo, const std::string& host, const std::string& name, ByteView content) {
    Snapshot s;
    BlobWriter w(repo);
    Id cid = repo.blob_id(content);
    w.add(BlobType::Data, cid, content);
    Tree t;
    Node n;
    n.name = name;
    n.mode = 0644;
    n.size = content.size();
    n.content = {cid};
    t.nodes = {n};
    Bytes enc = encode_tree(t);
    s.tree = repo.blob_id(enc);
    w.add(BlobType::Tree, s.tree, enc);
    w.flush();
    s.host = host;
    s.time = now_rfc3339();
    repo.save_snapshot(s);
    return s;
  }

  // The genuine point restores intact.
  void expect_good_point_restores(Repository& repo) {
    RestoreOptions o;
    o.target = dir.path + "/good-" + std::to_string(restores++);
    ProgressCounters p;
    auto r = restore_files(repo, good, o, p);
    EXPECT_TRUE(r.errors.empty()) << r.errors[0].message;
    std::ifstream f(o.target + "/hello.txt");
    std::string line;
    std::getline(f, line);
    EXPECT_EQ(line, "hello, world");
  }
  int restores = 0;
};

// A point of host "evil" whose root is a chain of `depth` nested directories, each named by
// `name_len` bytes: a path of depth*(name_len+1).
Snapshot plant_deep_chain(Repository& repo, size_t depth, size_t name_len = 1) {
  Snapshot s;
  BlobWriter w(repo);
  Tree leaf;
  Bytes enc = encode_tree(leaf);
  Id id = repo.blob_id(enc);
  w.add(BlobType::Tree, id, enc);
  for (size_t i = 0; i < depth; i++) {
    Tree t;
    Node n;
    n.name = std::string(name_len, 'd');
    n.type = NodeType::Dir;
    n.mode = 0755;
    n.subtree = id;
    t.nodes = {n};
    enc = encode_tree(t);
    id = repo.blob_id(enc);
    w.add(BlobType::Tree, id, enc);
  }
  w.flush();
  s.tree = id;
  s.host = "evil";
  s.time = now_rfc3339();
  repo.save_snapshot(s);
  return s;
}

// A zstd frame declaring `declared` decoded bytes over a single 16-byte RLE block.
Bytes lying_frame(uint64_t declared) {
  Bytes f = {0x28, 0xB5, 0x2F, 0xFD, 0xE0};  // magic; single segment, 8-byte content size
  put_u64(f, declared);
  uint32_t block = (16u << 3) | (1u << 1) | 1u;  // 16 bytes, RLE, last block
  f.push_back(uint8_t(block));
  f.push_back(uint8_t(block >> 8));
  f.push_back(uint8_t(block >> 16));
  f.push_back('A');
  return f;
}

// The envelope of repository-format.md around a payload that claims to be zstd-compressed.
Bytes seal_as_zstd(const Keyring& keys, ByteView frame) {
  Bytes plain(frame.begin(), frame.end());
  plain.push_back(uint8_t(Codec::Zstd));
  Bytes out = {kEnvelopeFormat};
  put_u32(out, keys.current_version());
  Bytes aad(out.begin(), out.end());
  aead_seal(keys.key(keys.current_version()), aad, plain, out);
  return out;
}

// A snapshot whose root tree is a blob of `raw_length` bytes (per the index) holding `frame`.
Snapshot plant_bomb(Repository& repo, ByteView frame, uint32_t raw_length) {
  Snapshot s;
  BlobWriter w(repo);
  s.tree = random_id();
  w.copy_sealed(BlobType::Tree, s.tree, raw_length, seal_as_zstd(repo.keys(), frame));
  w.flush();
  s.host = "evil";
  s.time = now_rfc3339();
  repo.save_snapshot(s);
  return s;
}

// An index object declaring 0x7fffffff packs in 49 bytes.
std::string plant_huge_index(Repository& repo) {
  Bytes idx = {'A', 'R', 'C', 'A', 'I', 'D', 'X', '1'};
  put_u32(idx, 0x7fffffff);
  idx.resize(49, 0);
  std::string name = "index/" + random_id().hex();
  repo.save_object(name, idx);
  return name;
}

bool any_contains(const std::vector<std::string>& v, const std::string& s) {
  for (const auto& x : v)
    if (x.find(s) != std::string::npos) return true;
  return false;
}

// GNU rm walks with descriptors: std::filesystem::remove_all cannot remove paths beyond PATH_MAX.
void remove_deep(const std::string& p) { EXPECT_EQ(std::system(("rm -rf '" + p + "'").c_str()), 0); }

}  // namespace

TEST(HostileIndex, HugeDeclaredCountsAreCorruptNotAllocations) {
  Bytes idx = {'A', 'R', 'C', 'A', 'I', 'D', 'X', '1'};
  put_u32(idx, 0x7fffffff);
  idx.resize(49, 0);
  try {
    decode_index_file(idx, "index/ab12");
    FAIL() << "decoded";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Corrupt);
    EXPECT_NE(std::string(e.what()).find("index/ab12: declares 2147483647 packs"), std::string::npos) << e.what();
  }
  // A plausible pack count, then a huge blob count.
  Bytes idx2 = {'A', 'R', 'C', 'A', 'I', 'D', 'X', '1'};
  put_u32(idx2, 1);
  idx2.resize(idx2.size() + 33, 0);
  put_u32(idx2, 0xffffffff);
  idx2.resize(idx2.size() + 44, 0);
  EXPECT_THROW(decode_index_file(idx2, "index/cd34"), Error);
}

TEST(HostileIndex, PackHeaderCountIsBoundedByItsBytes) {
  Keyring k = random_keyring(1);
  Bytes header = {'A', 'R', 'C', 'A', 'P', 'C', 'K', '1', 0};
  put_u32(header, 0x7fffffff);
  Bytes tail = seal(k, 1, header, 0);
  put_u32(tail, uint32_t(tail.size()));
  try {
    parse_pack_header(k, tail, tail.size(), "data/ab/ab12");
    FAIL() << "parsed";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Corrupt);
    EXPECT_NE(std::string(e.what()).find("declares 2147483647 blobs"), std::string::npos) << e.what();
  }
}

// The 49-byte index object of issue 18 stopped every restore, backup and check for all hosts.
TEST(HostileIndex, APlantedIndexObjectStopsNobodyAndCheckNamesIt) {
  HostileRepo h;
  std::string bad = plant_huge_index(*h.attacker());
  auto repo = h.open(kOperator);
  h.expect_good_point_restores(*repo);
  EXPECT_TRUE(any_contains(h.warnings, bad)) << "the skipped index object is named";
  // Backups go on, for the compromised host and the others.
  HostileRepo::store_point(*h.attacker(), "evil", "x", as_view(std::string("x")));
  Snapshot later = HostileRepo::store_point(*h.open(kOperator), "good", "later.txt", as_view(std::string("later\n")));
  auto repo2 = h.open(kOperator);
  RestoreOptions o;
  o.target = h.dir.path + "/later";
  ProgressCounters p;
  EXPECT_TRUE(restore_files(*repo2, later, o, p).errors.empty());
  // check names the object.
  ProgressCounters cp;
  CheckResult r = check_repository(*h.open(kOperator), {}, cp);
  bool named = false;
  for (const auto& e : r.errors)
    if (e.object == bad && e.message.find("declares 2147483647 packs") != std::string::npos) named = true;
  EXPECT_TRUE(named);
}

TEST(HostileTree, DeepChainIsAnErrorForRestoreLsAndCheckNotACrash) {
  HostileRepo h;
  Snapshot deep = plant_deep_chain(*h.attacker(), 30000);
  auto repo = h.open(kOperator);
  std::string snap = "snapshot " + deep.id.short_hex();
  // ls, diff, find, stats, cat: walk_tree.
  try {
    walk_tree(
        *repo, deep.tree, [](const std::string&, const Node&) { return true; }, "", snap);
    FAIL() << "walked";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Corrupt);
    EXPECT_NE(std::string(e.what()).find(snap + ": directories nested deeper than 4096 levels at 'd/d/d"),
              std::string::npos)
        << e.what();
  }
  // restore: the chain is restored down to the bound, with an error for the rest.
  RestoreOptions o;
  o.target = h.dir.path + "/deep";
  ProgressCounters p;
  auto r = restore_files(*repo, deep, o, p);
  bool reported = false;
  for (const auto& e : r.errors)
    if (e.message.find("nested deeper than 4096") != std::string::npos) reported = true;
  EXPECT_TRUE(reported);
  remove_deep(o.target);
  // check: one clear error naming the snapshot.
  ProgressCounters cp;
  CheckResult c = check_repository(*repo, {}, cp);
  bool named = false;
  for (const auto& e : c.errors)
    if (e.object == snap && e.message.find("nested deeper than 4096") != std::string::npos) named = true;
  EXPECT_TRUE(named);
  h.expect_good_point_restores(*repo);
}

TEST(HostileTree, StreamPathsDeeperThanTheBoundAreRefusedAtBackup) {
  TempDir dir;
  auto repo = make_test_repo(dir.path + "/repo");
  BlobWriter w(*repo);
  ProgressCounters p;
  StreamTree st(*repo, w, p, 1);
  std::string path = "d";
  for (int i = 1; i < 5000; i++) path += "/d";
  try {
    st.add_dir(path, Node{});
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Corrupt);
    EXPECT_NE(std::string(e.what()).find("nested deeper than 4096"), std::string::npos) << e.what();
  }
  st.add_dir(path.substr(0, 2 * 4000 - 1), Node{});  // 4000 levels: deep, but within the bound
  st.finish();
}

// 4 GiB claimed by a 17-byte frame: Corrupt before any allocation. Run with an address-space
// limit far below 4 GiB, so an allocation of the claim fails the test instead of passing
// unnoticed on a machine with memory to spare.
TEST(HostileCompression, FrameClaimingGigabytesIsCorruptWithoutAllocating) {
  if (kAsan) GTEST_SKIP() << "an address-space limit does not work with AddressSanitizer";
  Keyring k = random_keyring(1);
  Bytes sealed = seal_as_zstd(k, lying_frame(uint64_t(1) << 32));
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    struct rlimit lim = {uint64_t(1) << 30, uint64_t(1) << 30};
    setrlimit(RLIMIT_AS, &lim);
    try {
      unseal(k, sealed, "blob ab12");  // no expected size: the frame's own length bounds it
    } catch (const Error& e) {
      _exit(e.kind() == ErrorKind::Corrupt && std::string(e.what()).find("declares") != std::string::npos ? 0 : 3);
    } catch (...) {
      _exit(2);  // std::bad_alloc: the claim was allocated
    }
    _exit(1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// A frame within what its bytes could hold, but beyond the length the index records.
TEST(HostileCompression, BlobIsBoundedByTheLengthTheIndexRecords) {
  HostileRepo h;
  Snapshot bomb = plant_bomb(*h.attacker(), lying_frame(600 << 10), 16);
  Snapshot huge = plant_bomb(*h.attacker(), lying_frame(uint64_t(1) << 32), 16);
  auto repo = h.open(kOperator);
  for (const Snapshot* s : {&bomb, &huge}) {
    try {
      repo->load_tree(s->tree);
      FAIL() << "loaded";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Corrupt);
      EXPECT_NE(std::string(e.what()).find("declares"), std::string::npos) << e.what();
    }
  }
  try {
    repo->load_tree(bomb.tree);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("16 expected"), std::string::npos) << e.what();
  }
  RestoreOptions o;
  o.target = h.dir.path + "/bomb";
  ProgressCounters p;
  EXPECT_THROW(restore_files(*repo, bomb, o, p), Error);  // no tree: nothing to restore
  ProgressCounters cp;
  CheckResult c = check_repository(*repo, {}, cp);
  EXPECT_FALSE(c.ok());
  h.expect_good_point_restores(*repo);
}

namespace {

// A point of host "evil" whose every one of `levels` levels names the same subtree twice ("a"
// and "b"): 2^levels paths in a few KB. The leaf holds file "f" whose content blob is missing
// (so check maps damage through the DAG) unless `intact_leaf`.
Snapshot plant_dag(Repository& repo, size_t levels, bool intact_leaf = true) {
  Snapshot s;
  BlobWriter w(repo);
  Tree leaf;
  Node f;
  f.name = "f";
  f.mode = 0644;
  if (!intact_leaf) {
    f.size = 1;
    f.content = {random_id()};
  }
  leaf.nodes = {f};
  Bytes enc = encode_tree(leaf);
  Id id = repo.blob_id(enc);
  w.add(BlobType::Tree, id, enc);
  for (size_t i = 0; i < levels; i++) {
    Tree t;
    for (const char* name : {"a", "b"}) {
      Node n;
      n.name = name;
      n.type = NodeType::Dir;
      n.mode = 0755;
      n.subtree = id;
      t.nodes.push_back(n);
    }
    enc = encode_tree(t);
    id = repo.blob_id(enc);
    w.add(BlobType::Tree, id, enc);
  }
  w.flush();
  s.tree = id;
  s.host = "evil";
  s.time = now_rfc3339();
  repo.save_snapshot(s);
  return s;
}

// Runs `fn` in a child process: true if it returned true within `seconds` (today's code walked
// the 2^64 paths for ever, and a thread cannot be stopped).
bool within(int seconds, const std::function<bool()>& fn) {
  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    bool ok = false;
    try {
      ok = fn();
    } catch (...) {}
    _exit(ok ? 0 : 1);
  }
  for (int i = 0; i < seconds * 10; i++) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    usleep(100000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  ADD_FAILURE() << "still running after " << seconds << " s";
  return false;
}

bool corrupt_with(const std::function<void()>& fn, const std::string& text) {
  try {
    fn();
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::Corrupt && std::string(e.what()).find(text) != std::string::npos) return true;
    std::fprintf(stderr, "%s\n", e.what());
  }
  return false;
}

// Records what would be locked instead of locking (a store with S3 Object Lock).
class LockingBackend : public LocalBackend {
 public:
  using LocalBackend::LocalBackend;
  bool supports_object_lock() const override { return true; }
  void lock_object(const std::string& name, const StoreLock&) override {
    std::lock_guard lk(mu_);
    locked.push_back(name);
  }
  std::vector<std::string> locked;

 private:
  std::mutex mu_;
};

}  // namespace

// One point with 2^64 paths stopped the repository-wide check (its damage map walked every path).
TEST(HostileDag, CheckNamesAPointOfTwoToTheSixtyFourPathsInSeconds) {
  HostileRepo h;
  Snapshot dag = plant_dag(*h.attacker(), 64, false);
  std::string snap = "snapshot " + dag.id.short_hex();
  EXPECT_TRUE(within(kBoundS, [&] {
    ProgressCounters cp;
    CheckResult c = check_repository(*h.open(kOperator), {}, cp);
    bool named = false;
    for (const auto& e : c.errors)
      if (e.object == snap && e.message.find("expand to more than 1000000000 entries") != std::string::npos)
        named = true;
    return named && c.affected.size() <= 100001 && !c.affected.empty();
  }));
}

TEST(HostileDag, RestoreAndWalksRefuseThePointUpFrontAndOthersRestore) {
  HostileRepo h;
  Snapshot dag = plant_dag(*h.attacker(), 64);
  std::string snap = "snapshot " + dag.id.short_hex();
  std::string target = h.dir.path + "/dag";
  EXPECT_TRUE(within(kBoundS, [&] {
    auto repo = h.open(kOperator);
    size_t calls = 0;
    bool walk = corrupt_with(
        [&] {
          walk_tree(
              *repo, dag.tree, [&](const std::string&, const Node&) { return ++calls, true; }, "", snap);
        },
        snap + ": its directories expand to more than");
    RestoreOptions o;
    o.target = target;
    ProgressCounters p;
    bool restore = corrupt_with([&] { restore_files(*repo, dag, o, p); }, snap + ": its directories expand");
    return walk && restore && calls == 0;
  }));
  EXPECT_FALSE(std::filesystem::exists(target + "/a")) << "nothing is written";
  // A legitimate DAG (the same subtree twice per level, 2^10 paths) is walked in full.
  Snapshot small = plant_dag(*h.attacker(), 10);
  auto repo = h.open(kOperator);
  size_t files = 0;
  walk_tree(*repo, small.tree,
            [&](const std::string&, const Node& n) { return files += n.type == NodeType::File, true; });
  EXPECT_EQ(files, 1024u);
  h.expect_good_point_restores(*repo);
}

// 300 levels of 250-byte names: a 75 KB path, beyond the 64 KiB bound of paths.
TEST(HostileDag, PathsLongerThanTheBoundAreCorruptNamingThePoint) {
  HostileRepo h;
  Snapshot longp = plant_deep_chain(*h.attacker(), 300, 250);
  std::string snap = "snapshot " + longp.id.short_hex();
  auto repo = h.open(kOperator);
  EXPECT_TRUE(corrupt_with(
      [&] {
        walk_tree(
            *repo, longp.tree, [](const std::string&, const Node&) { return true; }, "", snap);
      },
      snap + ": a path of 65"));
  RestoreOptions o;
  o.target = h.dir.path + "/long";
  ProgressCounters p;
  auto r = restore_files(*repo, longp, o, p);
  bool reported = false;
  for (const auto& e : r.errors) reported = reported || e.message.find("a path of 65") != std::string::npos;
  EXPECT_TRUE(reported);
  remove_deep(o.target);
  ProgressCounters cp;
  CheckResult c = check_repository(*repo, {}, cp);
  bool named = false;
  for (const auto& e : c.errors)
    named = named || (e.object == snap && e.message.find("more than 65536") != std::string::npos);
  EXPECT_TRUE(named);
  h.expect_good_point_restores(*repo);
}

// 'lock add' failed outright on a planted index object.
TEST(HostileIndex, StoreLockSkipsADamagedIndexObjectAndNamesIt) {
  HostileRepo h;
  std::string bad = plant_huge_index(*h.attacker());
  auto backend = std::make_unique<LockingBackend>(h.path);
  LockingBackend* b = backend.get();
  auto repo = Repository::open(std::move(backend), kOperator);
  std::vector<std::string> warnings;
  repo->set_warning_handler([&](const std::string& m) { warnings.push_back(m); });
  SnapshotLock l = add_lock(*repo, h.good.id, LockMode::Governance, time(nullptr) + 3600, "audit");
  StoreLockResult r = apply_store_lock(*repo, h.good, l, true);
  EXPECT_GT(r.objects, 3u);
  EXPECT_TRUE(any_contains(b->locked, "snapshots/" + h.good.id.hex()));
  EXPECT_TRUE(any_contains(b->locked, "index/"));  // the genuine index object naming its packs
  EXPECT_FALSE(any_contains(b->locked, bad));
  bool named = false;
  for (const auto& w : warnings)
    named = named || (w.find(bad) != std::string::npos && w.find("is not locked") != std::string::npos);
  EXPECT_TRUE(named) << "the skipped object is named";
}

// pg restore's check of what a base backup may hold walked every path of a planted DAG.
TEST(HostileDag, PgRestoreRefusesTheDagBeforeWalkingIt) {
  HostileRepo h;
  Snapshot dag = plant_dag(*h.attacker(), 64);
  std::string what = "base backup " + dag.id.short_hex();
  EXPECT_TRUE(within(kBoundS, [&] {
    auto repo = h.open(kOperator);
    return corrupt_with([&] { check_cluster_tree(*repo, dag, dag.tree, std::nullopt, {}); },
                        what + ": its directories expand to more than");
  }));
}
