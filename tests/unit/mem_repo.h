// Helpers for in-process tests on an in-memory repository: a repository on a MemoryBackend,
// opened as often as needed (each time through its own FaultBackend, so a test can inject
// faults into one handle), and recovery points of one file whose bytes can be read back.
#pragma once
#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "crypto/random.h"
#include "repo/blob_writer.h"
#include "repo/check.h"
#include "repo/config.h"
#include "repo/repository.h"
#include "repo/tree.h"
#include "storage/fault_backend.h"
#include "storage/memory_backend.h"
#include "util/clock.h"

namespace arca::testing {

inline Credentials test_credentials(const std::string& password = "pw") {
  Credentials c;
  c.passphrase = password;
  return c;
}

inline InitOptions small_repo_options() {
  InitOptions o;
  o.kdf = {1, 8, 1};
  o.data_pack_size = 256 * 1024;  // several packs from a few hundred KiB
  o.meta_pack_size = 64 * 1024;
  return o;
}

// n random (incompressible) bytes.
inline Bytes noise(size_t n) {
  Bytes b(n);
  random_bytes(b);
  return b;
}

struct MemRepo {
  std::shared_ptr<MemoryBackend> mem;

  explicit MemRepo(InitOptions o = small_repo_options(), MemoryBackend::Options mo = {})
      : mem(std::make_shared<MemoryBackend>(mo)) {
    Repository::init(*mem, test_credentials(), o);
  }
  explicit MemRepo(std::shared_ptr<MemoryBackend> m) : mem(std::move(m)) {}

  // Opens the repository; `faults`, if given, receives the handle's FaultBackend.
  std::unique_ptr<Repository> open(FaultBackend** faults = nullptr, const std::string& password = "pw") const {
    auto fb = std::make_unique<FaultBackend>(mem);
    if (faults) *faults = fb.get();
    return Repository::open(std::move(fb), test_credentials(password));
  }
};

// Stores a tree of one file "f" made of `chunks` (each one blob) through `writer` and flushes;
// returns the tree's id.
inline Id store_file_tree(Repository& repo, BlobWriter& writer, const std::vector<Bytes>& chunks) {
  Node f;
  f.name = "f";
  for (const auto& c : chunks) {
    Id id = repo.blob_id(c);
    if (!writer.known(id)) writer.add(BlobType::Data, id, c);
    f.content.push_back(id);
    f.size += c.size();
  }
  Tree t;
  t.nodes.push_back(f);
  Bytes tb = encode_tree(t);
  Id tid = repo.blob_id(tb);
  writer.add(BlobType::Tree, tid, tb);
  writer.flush();
  return tid;
}

// A recovery point holding one file "f" made of `chunks` (each one blob); with `writer` given,
// that session is used, as a backup that started earlier would.
inline Snapshot save_file_point(Repository& repo, const std::vector<Bytes>& chunks, BlobWriter* writer = nullptr,
                                const std::vector<std::string>& tags = {}) {
  std::unique_ptr<BlobWriter> own;
  if (!writer) {
    own = std::make_unique<BlobWriter>(repo);
    writer = own.get();
  }
  Id tid = store_file_tree(repo, *writer, chunks);
  writer->check_publishable();
  Snapshot s;
  s.time = now_rfc3339();
  s.tree = tid;
  s.tags = tags;
  repo.save_snapshot(s);
  return s;
}

// The bytes of file "f" of a recovery point made by save_file_point.
inline Bytes read_file_point(Repository& repo, const Snapshot& s) {
  Tree t = repo.load_tree(s.tree);
  Bytes out;
  for (const auto& id : t.nodes.at(0).content) {
    Bytes b = repo.read_blob(id);
    out.insert(out.end(), b.begin(), b.end());
  }
  return out;
}

inline Bytes concat(const std::vector<Bytes>& parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Check (with read_data); every problem becomes a test failure naming it.
inline CheckResult check_all(Repository& repo, bool read_data = true) {
  CheckOptions o;
  o.read_data = read_data;
  o.threads = 1;
  ProgressCounters p;
  return check_repository(repo, o, p);
}

inline bool check_clean(Repository& repo, const std::string& context = {}) {
  auto r = check_all(repo);
  for (const auto& e : r.errors) ADD_FAILURE() << context << ": " << e.object << ": " << e.message;
  return r.ok();
}

}  // namespace arca::testing
