#include <gtest/gtest.h>

#include "crypto/random.h"
#include "repo/envelope.h"
#include "repo/index.h"
#include "repo/pack.h"
#include "storage/local_backend.h"
#include "test_util.h"
#include "util/clock.h"
#include "util/error.h"

using namespace arca;

namespace {
Keyring keys() { return random_keyring(1); }
}  // namespace

TEST(Pack, BuildParseAndReadBlobsBack) {
  TempDir dir;
  Keyring k = keys();
  PackBuilder b(BlobType::Data, dir.path + "/staging", 1 << 20);
  std::vector<Bytes> plains;
  std::vector<Id> ids;
  for (int i = 0; i < 20; i++) {
    Bytes p(1000 + i * 37, uint8_t(i));
    Id id = random_id();
    b.add(id, uint32_t(p.size()), seal(k, 1, p, 3));
    plains.push_back(p);
    ids.push_back(id);
  }
  auto f = b.finish(k);
  LocalBackend be(dir.path + "/repo");
  be.create();
  std::string name = pack_name(f.type, f.id);
  be.put_file(name, f.path);
  Bytes data = be.get(name);
  EXPECT_EQ(data.size(), f.size);
  EXPECT_EQ(pack_id_of(data, name), f.id);
  BlobType t;
  auto blobs = parse_pack_header(k, data, data.size(), name, &t);
  EXPECT_EQ(t, BlobType::Data);
  ASSERT_EQ(blobs.size(), 20u);
  for (size_t i = 0; i < blobs.size(); i++) {
    EXPECT_EQ(blobs[i].id, ids[i]);
    EXPECT_EQ(blobs[i].offset, f.blobs[i].offset);
    Bytes sealed = be.get_range(name, blobs[i].offset, blobs[i].length);
    EXPECT_EQ(unseal(k, sealed, "blob"), plains[i]);
  }
  // A damaged header is detected.
  Bytes bad = data;
  bad[bad.size() - 10] ^= 1;
  EXPECT_THROW(parse_pack_header(k, bad, bad.size(), name), Error);
}

TEST(Index, FileRoundTripAndLookup) {
  std::vector<IndexPack> packs;
  for (int p = 0; p < 5; p++) {
    IndexPack ip{random_id(), p % 2 ? BlobType::Tree : BlobType::Data, {}};
    for (int i = 0; i < 100; i++) ip.blobs.push_back({random_id(), uint32_t(i * 10), 10, 20});
    packs.push_back(ip);
  }
  Bytes enc = encode_index_file(packs);
  auto dec = decode_index_file(enc, "index/x");
  ASSERT_EQ(dec.size(), packs.size());
  Index idx;
  for (const auto& p : dec) idx.add(p);
  idx.add(dec[0]);  // the same pack twice is harmless
  idx.finalize();
  EXPECT_EQ(idx.blob_count(), 500u);
  EXPECT_EQ(idx.pack_count(), 5u);
  for (const auto& p : packs)
    for (const auto& b : p.blobs) {
      auto loc = idx.find(b.id);
      ASSERT_TRUE(loc);
      EXPECT_EQ(loc->pack, p.pack);
      EXPECT_EQ(loc->type, p.type);
      EXPECT_EQ(loc->offset, b.offset);
    }
  EXPECT_FALSE(idx.find(random_id()));
  EXPECT_LE(idx.memory_bytes() / idx.blob_count(), 60u) << "index memory per blob must stay small";
  Bytes truncated(enc.begin(), enc.end() - 5);
  EXPECT_THROW(decode_index_file(truncated, "index/x"), Error);
}

// A blob stored in two packs (two backups at once): find() gives one copy, copies() both, so a
// reader can fall back when one is damaged or its pack is gone.
TEST(Index, RemembersEveryCopyOfADuplicatedBlob) {
  Id shared = random_id(), only = random_id();
  IndexPack a{random_id(), BlobType::Data, {{shared, 0, 10, 20}, {only, 10, 10, 20}}};
  IndexPack b{random_id(), BlobType::Data, {{shared, 40, 10, 20}}};
  Index idx;
  idx.add(a);
  idx.add(b);
  idx.condemn(a.pack);  // the primary copy is the one outside condemned packs
  idx.finalize();
  EXPECT_EQ(idx.blob_count(), 2u);
  auto copies = idx.copies(shared);
  ASSERT_EQ(copies.size(), 2u);
  EXPECT_EQ(copies[0].pack, b.pack);
  EXPECT_EQ(copies[0].offset, 40u);
  EXPECT_EQ(copies[1].pack, a.pack);
  EXPECT_EQ(copies[1].offset, 0u);
  EXPECT_EQ(idx.copies(only).size(), 1u);
  EXPECT_TRUE(idx.copies(random_id()).empty());
  // Otherwise the copy in the pack with the lower id is the primary, whatever the order of adding.
  Index again;
  again.add(b);
  again.add(a);
  again.finalize();
  EXPECT_EQ(again.find(shared)->pack, std::min(a.pack, b.pack));
}

// ---- Reading packs' own headers: the index fallback, `repair index`, and what `check` says.

#include <filesystem>

#include "repo/blob_writer.h"
#include "repo/check.h"
#include "repo/repair_index.h"
#include "repo/repair_scan.h"

namespace {

// A recovery point of one file made of `chunks`, stored in its own packs and index file.
Snapshot save_point(Repository& repo, const std::vector<Bytes>& chunks) {
  BlobWriter w(repo);
  Node f;
  f.name = "f";
  for (const auto& c : chunks) {
    Id id = repo.blob_id(c);
    w.add(BlobType::Data, id, c);
    f.content.push_back(id);
    f.size += c.size();
  }
  Tree t;
  t.nodes.push_back(f);
  Bytes tb = encode_tree(t);
  w.add(BlobType::Tree, repo.blob_id(tb), tb);
  w.flush();
  Snapshot s;
  s.time = now_rfc3339();
  s.tree = repo.blob_id(tb);
  repo.save_snapshot(s);
  return s;
}

Bytes random_bytes_of(size_t n) {
  Bytes b(n);
  random_bytes(b);
  return b;
}

std::unique_ptr<Repository> reopen(const std::string& path, std::vector<std::string>* warnings = nullptr) {
  Credentials c;
  c.passphrase = "pw";
  auto r = Repository::open(std::make_unique<LocalBackend>(path), c);
  if (warnings) r->set_warning_handler([warnings](const std::string& m) { warnings->push_back(m); });
  return r;
}

std::vector<std::string> index_files(const std::string& path) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(path + "/index")) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

void flip_byte(const std::string& file, size_t at) {
  FILE* f = fopen(file.c_str(), "r+b");
  ASSERT_TRUE(f);
  fseek(f, long(at), SEEK_SET);
  int c = fgetc(f);
  fseek(f, long(at), SEEK_SET);
  fputc(c ^ 0xff, f);
  fclose(f);
}

CheckResult check(const std::string& path, bool read_data, ProgressCounters* progress = nullptr) {
  auto repo = reopen(path);
  CheckOptions o;
  o.read_data = read_data;
  ProgressCounters p;
  return check_repository(*repo, o, progress ? *progress : p);
}

bool mentions(const std::vector<CheckProblem>& v, const std::string& what) {
  for (const auto& p : v)
    if ((p.object + ": " + p.message).find(what) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST(PackHeaders, ScanReadsWhatTheIndexLists) {
  TempDir d;
  auto repo = make_test_repo(d.path);
  Bytes x = random_bytes_of(200000), y = random_bytes_of(1000);
  save_point(*repo, {x, y});
  auto stored = list_stored_packs(repo->backend());
  ASSERT_EQ(stored.size(), 2u);  // one data pack, one tree pack
  auto r = reopen(d.path);
  for (const auto& s : scan_pack_headers(r->backend(), r->keys(), stored, 2)) {
    EXPECT_EQ(s.error, "");
    EXPECT_EQ(s.key_version, std::optional<uint32_t>(1));
    for (const auto& b : s.pack.blobs) {
      auto loc = r->index().find(b.id);
      ASSERT_TRUE(loc);
      EXPECT_EQ(loc->offset, b.offset);
      EXPECT_EQ(loc->length, b.length);
    }
  }
  EXPECT_FALSE(parse_pack_name("data/ab/cd"));
  EXPECT_FALSE(parse_pack_name("index/" + std::string(64, 'a')));
  EXPECT_TRUE(parse_pack_name("meta/aa/" + std::string(64, 'a')));
  EXPECT_EQ(without_name("index/x: bad magic", "index/x"), "bad magic");
  EXPECT_EQ(without_name("index/x failed authentication", "index/x"), "failed authentication");
  EXPECT_EQ(without_name("other", "index/x"), "other");
}

// One damaged index object: readers still find every blob (from the packs' headers), check says
// what to run instead of calling the packs harmless, and `repair index` makes it whole again.
TEST(PackHeaders, DamagedIndexFallsBackAndRepairRestoresFullFunction) {
  TempDir d;
  auto repo = make_test_repo(d.path);
  Bytes x = random_bytes_of(100000), y = random_bytes_of(100000);
  save_point(*repo, {x});
  save_point(*reopen(d.path), {x, y});  // reuses x: needs the first point's packs
  auto files = index_files(d.path);
  ASSERT_EQ(files.size(), 2u);
  for (const auto& f : files) {
    if (std::filesystem::file_size(f) > 0) flip_byte(f, 30);
    break;  // only the first
  }
  std::vector<std::string> warnings;
  auto r = reopen(d.path, &warnings);
  EXPECT_EQ(r->read_blob(repo->blob_id(x)), x);
  EXPECT_EQ(r->read_blob(repo->blob_id(y)), y);
  EXPECT_FALSE(r->index().usable(repo->blob_id(x)) && r->index().usable(repo->blob_id(y)));  // some from headers
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("repair index"), std::string::npos);

  auto c = check(d.path, false);
  EXPECT_FALSE(c.ok());
  EXPECT_TRUE(mentions(c.errors, "repair index"));
  EXPECT_FALSE(mentions(c.notes, "harmless"));
  EXPECT_TRUE(c.affected.empty());

  ProgressCounters p;
  auto rr = repair_index(*reopen(d.path), {}, p);
  EXPECT_TRUE(rr.complete());
  EXPECT_EQ(rr.damaged_index.size(), 1u);
  EXPECT_EQ(rr.removed.size(), 2u);
  EXPECT_EQ(rr.packs, 4u);
  auto c2 = check(d.path, true);
  for (const auto& e : c2.errors) ADD_FAILURE() << e.object << ": " << e.message;
  EXPECT_TRUE(c2.notes.empty());
  warnings.clear();
  auto r2 = reopen(d.path, &warnings);
  EXPECT_TRUE(r2->index().usable(repo->blob_id(x)));
  EXPECT_TRUE(warnings.empty());
}

TEST(PackHeaders, UnindexedDuplicateIsHarmlessOnlyWhenItsBlobsAreIndexedElsewhere) {
  TempDir d;
  auto repo = make_test_repo(d.path);
  Bytes x = random_bytes_of(100000), z = random_bytes_of(50000);
  save_point(*repo, {x});
  auto first_index = index_files(d.path);
  ASSERT_EQ(first_index.size(), 1u);
  std::filesystem::rename(first_index[0], d.path + "/saved-index");
  // Two interrupted backups: one stored x again (a duplicate), one new data; neither index file stays.
  for (const Bytes* b : {&x, &z}) {
    auto r = reopen(d.path);
    BlobWriter w(*r);
    w.add(BlobType::Data, r->blob_id(*b), *b);
    w.flush();
  }
  for (const auto& f : index_files(d.path)) std::filesystem::remove(f);
  std::filesystem::rename(d.path + "/saved-index", first_index[0]);

  auto c = check(d.path, false);
  for (const auto& e : c.errors) ADD_FAILURE() << e.object << ": " << e.message;
  ASSERT_EQ(c.notes.size(), 2u);
  size_t harmless = 0;
  for (const auto& n : c.notes) harmless += n.message.find("harmless") != std::string::npos;
  EXPECT_EQ(harmless, 1u);  // only the duplicate of x

  // Without any index, the point's own packs are needed and in no index: errors, not notes.
  for (const auto& f : index_files(d.path)) std::filesystem::remove(f);
  auto c2 = check(d.path, false);
  EXPECT_FALSE(c2.ok());
  EXPECT_TRUE(mentions(c2.errors, "repair index"));
  EXPECT_FALSE(mentions(c2.notes, "harmless"));
}

TEST(CheckProgress, ReadDataCountsEveryPack) {
  TempDir d;
  auto repo = make_test_repo(d.path);
  for (int i = 0; i < 3; i++) save_point(*repo, {random_bytes_of(50000)});
  ProgressCounters p;
  auto c = check(d.path, true, &p);
  EXPECT_TRUE(c.ok());
  EXPECT_TRUE(p.totals_known);
  EXPECT_EQ(p.files_total.load(), 6u);
  EXPECT_EQ(p.files_done.load(), p.files_total.load());
  EXPECT_EQ(p.bytes_done.load(), p.bytes_total.load());
}
