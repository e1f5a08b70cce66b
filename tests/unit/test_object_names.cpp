// Object names in one home (repo/object_names.h) and the registry of object families
// (repo/object_families.h): every family's names round-trip, malformed names are refused, the
// registry mirrors docs/repository-format.md §1, and check finds a damaged object of each family.
#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>

#include "mem_repo.h"
#include "repo/locks.h"
#include "repo/mfa.h"
#include "repo/object_families.h"
#include "repo/object_names.h"
#include "repo/pack.h"
#include "repo/prune_marks.h"
#include "repo/wal_retention.h"
#include "repo/writer_sessions.h"
#include "util/clock.h"

namespace arca {
namespace {

using namespace arca::testing;

Id some_id(uint8_t first = 0xab) {
  Id id = random_id();
  id.b[0] = first;
  return id;
}

TEST(ObjectNames, RoundTripEveryFamily) {
  Id a = some_id(), b = some_id(0x01);
  EXPECT_EQ(names::parse_key_file(names::key_file(a.hex())), a.hex());
  EXPECT_EQ(names::parse_keyring_entry(names::keyring_entry(2)), 2u);
  EXPECT_EQ(names::keyring_entry(2), "keyring/00000002");
  EXPECT_EQ(names::parse_snapshot(names::snapshot(a)), a);
  EXPECT_EQ(names::snapshot_id_text(names::snapshot(a)), a.hex());
  EXPECT_EQ(names::parse_index_file(names::index_file(a)), a);
  for (BlobType t : {BlobType::Data, BlobType::Tree}) {
    auto p = names::parse_pack(names::pack(t, a));
    ASSERT_TRUE(p);
    EXPECT_EQ(p->id, a);
    EXPECT_EQ(p->type, t);
  }
  EXPECT_EQ(names::pack(BlobType::Data, a), "data/ab/" + a.hex());
  EXPECT_EQ(names::parse_prune_mark(names::prune_mark(a)), a);

  for (const std::string file : {"000000010000000A00000003", "000000010000000A00000003.partial", "00000001.history",
                                 "000000010000000A00000003.00000028.backup"}) {
    auto w = names::parse_wal(names::wal_file(42, 1, file));
    ASSERT_TRUE(w) << file;
    EXPECT_EQ(w->system, "000000000000002a");
    EXPECT_EQ(w->timeline, 1u);
    EXPECT_EQ(w->file, file);
    EXPECT_FALSE(w->piece);
  }
  EXPECT_EQ(names::wal_file(42, 2, "00000002.history"), "wal/000000000000002a/00000002/00000002.history");
  std::string piece = names::wal_piece(42, 1, "000000010000000A00000003", 0x2000);
  EXPECT_EQ(piece, "wal/000000000000002a/00000001/pieces/000000010000000A00000003/00002000");
  auto w = names::parse_wal(piece);
  ASSERT_TRUE(w);
  EXPECT_TRUE(w->piece);
  EXPECT_EQ(w->file, "000000010000000A00000003");
  EXPECT_EQ(w->offset, 0x2000u);
  EXPECT_EQ(names::parse_wal_piece_offset(piece, names::wal_pieces_prefix(42, 1, "000000010000000A00000003")), 0x2000u);

  auto ws = names::parse_writer(names::writer_session(a));
  ASSERT_TRUE(ws);
  EXPECT_EQ(ws->id, a);
  EXPECT_FALSE(ws->done);
  auto wd = names::parse_writer(names::writer_done(names::writer_session(a)));
  ASSERT_TRUE(wd);
  EXPECT_EQ(wd->id, a);
  EXPECT_TRUE(wd->done);

  auto l = names::parse_lock(names::lock(a, b));
  ASSERT_TRUE(l);
  EXPECT_EQ(l->snapshot, a);
  EXPECT_EQ(l->lock, b);
  EXPECT_FALSE(l->release);
  auto r = names::parse_lock(names::lock_release(a, b));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->release);
  EXPECT_EQ(r->lock, b);

  auto totp = names::parse_mfa(names::kMfaTotp);
  ASSERT_TRUE(totp);
  EXPECT_EQ(totp->kind, names::MfaName::Kind::Totp);
  auto used = names::parse_mfa(names::mfa_used(59000123));
  ASSERT_TRUE(used);
  EXPECT_EQ(used->kind, names::MfaName::Kind::Used);
  EXPECT_EQ(used->step, 59000123);
  auto claim = names::parse_mfa(names::mfa_claim(7, a));
  ASSERT_TRUE(claim);
  EXPECT_EQ(claim->kind, names::MfaName::Kind::Claim);
  EXPECT_EQ(claim->step, 7);
  EXPECT_EQ(claim->claim, a);
  EXPECT_TRUE(names::mfa_claim(7, a).starts_with(names::mfa_claims_prefix(7)));
}

TEST(ObjectNames, ParsersRefuseMalformedNames) {
  std::string hex = some_id().hex(), upper = hex;
  for (auto& c : upper) c = char(std::toupper(uint8_t(c)));
  EXPECT_FALSE(names::parse_key_file("keys/" + hex.substr(1)));
  EXPECT_FALSE(names::parse_key_file("keys/" + upper));
  EXPECT_FALSE(names::parse_keyring_entry("keyring/0000001"));
  EXPECT_FALSE(names::parse_keyring_entry("keyring/0000000x"));
  EXPECT_FALSE(names::parse_snapshot("snapshots/" + hex + "0"));
  EXPECT_FALSE(names::parse_snapshot("snapshot/" + hex));
  EXPECT_FALSE(names::parse_snapshot("index/" + hex));
  EXPECT_FALSE(names::parse_index_file("index/" + hex.substr(0, 63) + "g"));
  EXPECT_FALSE(names::parse_pack("data/" + hex.substr(0, 2) + "/" + hex.substr(1)));
  EXPECT_FALSE(names::parse_pack("data/zz/" + hex));                        // directory is not the first byte
  EXPECT_FALSE(names::parse_pack("data/" + hex.substr(0, 2) + "-" + hex));  // no slash
  EXPECT_FALSE(names::parse_pack("index/" + hex));
  EXPECT_FALSE(names::parse_prune_mark(names::kPruneLock));
  EXPECT_FALSE(names::parse_prune_mark("prune/" + hex + ".tmp"));
  EXPECT_FALSE(names::parse_wal("wal/000000000000002A/00000001/000000010000000A00000003"));  // upper-case system
  EXPECT_FALSE(names::parse_wal("wal/000000000000002a/00000001/000000010000000a00000003"));  // lower-case segment
  EXPECT_FALSE(names::parse_wal("wal/000000000000002a/00000002/000000010000000A00000003"));  // other timeline
  EXPECT_FALSE(names::parse_wal("wal/000000000000002a/00000001/notawalfile"));
  EXPECT_FALSE(names::parse_wal("wal/000000000000002a/00000001/pieces/000000010000000A00000003/2000"));
  EXPECT_FALSE(names::parse_wal("wal/000000000000002a/00000001/pieces/00000001.history/00000000"));
  EXPECT_FALSE(names::parse_wal("wal/000000000000002a/00000001/"));
  EXPECT_FALSE(names::parse_wal("wal/"));
  EXPECT_FALSE(names::parse_writer("writers/" + hex + ".dome"));
  EXPECT_FALSE(names::parse_writer("writers/" + hex.substr(2)));
  EXPECT_FALSE(names::parse_lock("locks/" + hex));
  EXPECT_FALSE(names::parse_lock("locks/" + hex + "/" + hex + ".released"));
  EXPECT_FALSE(names::parse_lock("locks/" + hex + hex));
  EXPECT_FALSE(names::parse_mfa("mfa/used-"));
  EXPECT_FALSE(names::parse_mfa("mfa/used-012"));
  EXPECT_FALSE(names::parse_mfa("mfa/used--1"));
  EXPECT_FALSE(names::parse_mfa("mfa/claims/12/" + hex.substr(1)));
  EXPECT_FALSE(names::parse_mfa("mfa/claims/12"));
  EXPECT_FALSE(names::parse_mfa("mfa/totp2"));
  EXPECT_EQ(family_of("tmp/pack-123"), nullptr);  // staging files belong to no family
  EXPECT_EQ(family_of(".tmp-abc"), nullptr);
}

// The name forms of §1's table, as the document writes them.
std::set<std::string> documented_forms() {
  std::ifstream in(std::string(ARCA_SOURCE_DIR) + "/docs/repository-format.md");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string doc = ss.str();
  size_t start = doc.find("## 1. Objects"), end = doc.find("## 2.");
  EXPECT_NE(start, std::string::npos);
  std::set<std::string> out;
  std::istringstream section(doc.substr(start, end - start));
  std::regex row(R"(^\| `([^`]+)` \|)");
  for (std::string line; std::getline(section, line);) {
    std::smatch m;
    if (std::regex_search(line, m, row)) out.insert(m[1]);
  }
  return out;
}

TEST(ObjectFamilies, RegistryListsEveryDocumentedFamily) {
  std::set<std::string> registered;
  std::set<std::string> ids;
  for (const auto& f : object_families()) {
    EXPECT_TRUE(ids.insert(std::string(f.id)).second) << "family id registered twice: " << f.id;
    EXPECT_FALSE(f.retention_rule.empty()) << f.id;
    EXPECT_FALSE(f.check_rule.empty()) << f.id;
    EXPECT_TRUE(f.check != CheckRule::Load || f.load) << f.id << ": a loaded family needs its loader";
    EXPECT_TRUE((f.retention == Retention::Sweep) == (f.sweep != nullptr)) << f.id;
    for (auto form : f.forms) {
      EXPECT_TRUE(form.starts_with(f.prefix)) << form;
      registered.insert(std::string(form));
    }
  }
  std::set<std::string> documented = documented_forms();
  EXPECT_GE(documented.size(), 18u);
  EXPECT_EQ(registered, documented);
  EXPECT_EQ(object_family("wal").retention, Retention::Sweep);
  EXPECT_THROW(object_family("nope"), Error);
}

// A name of every family is recognized as that family's, and as no other's.
TEST(ObjectFamilies, EveryNameBelongsToItsFamily) {
  Id a = some_id(), b = some_id();
  std::map<std::string, std::vector<std::string>> samples = {
      {"keys", {names::key_file(a.hex())}},
      {"config", {names::kConfig}},
      {"keyring", {names::keyring_entry(1)}},
      {"snapshots", {names::snapshot(a)}},
      {"index", {names::index_file(a)}},
      {"data", {names::pack(BlobType::Data, a)}},
      {"meta", {names::pack(BlobType::Tree, a)}},
      {"wal",
       {names::wal_file(1, 1, "000000010000000000000001"), names::wal_piece(1, 1, "000000010000000000000001", 0)}},
      {"prune", {names::prune_mark(a), names::kPruneLock}},
      {"writers", {names::writer_session(a), names::writer_done(names::writer_session(a))}},
      {"locks", {names::lock(a, b), names::lock_release(a, b)}},
      {"mfa", {names::kMfaTotp, names::mfa_used(3), names::mfa_claim(3, a)}},
      {"drills", {names::drill_record(a)}},
      {"copied", {names::copied_record(a)}},
  };
  for (const auto& f : object_families()) {
    auto it = samples.find(std::string(f.id));
    ASSERT_NE(it, samples.end()) << "no sample name for family " << f.id << ": add one";
    for (const auto& n : it->second) {
      const ObjectFamily* got = family_of(n);
      ASSERT_NE(got, nullptr) << n;
      EXPECT_EQ(got->id, f.id) << n;
    }
  }
}

// Flips a byte in the middle of an object.
void damage(MemoryBackend& mem, const std::string& name) {
  Bytes b = mem.get(name);
  ASSERT_FALSE(b.empty()) << name;
  b[b.size() / 2] ^= 0x5a;
  mem.put(name, b);
}

std::string first_named(Backend& b, const std::string& prefix, const std::function<bool(const std::string&)>& pick) {
  std::string out;
  b.list(prefix, [&](const ObjectInfo& o) {
    if (out.empty() && pick(o.name)) out = o.name;
  });
  return out;
}

// For every family: an object of it, damaged, is found by check (config: the repository does not open).
TEST(ObjectFamilies, CheckFindsADamagedObjectOfEachFamily) {
  for (const auto& family : object_families()) {
    SCOPED_TRACE(std::string(family.id));
    MemRepo m;
    std::string victim;
    {
      auto repo = m.open();
      Snapshot s = save_file_point(*repo, {noise(1000), noise(2000)});
      std::string id(family.id);
      if (id == "keys") {
        victim = names::key_file(random_id().hex());
        m.mem->put(victim, as_view(std::string("{\"arca_format\": 1, \"kind\": \"passphrase\", \"salt\": 3}")));
        damage(*m.mem, victim);
      } else if (id == "keyring") {
        repo->rotate_data_key();
        victim = names::keyring_entry(1);
      } else if (id == "wal") {
        Bytes seg(4096, 7);
        victim = names::wal_file(42, 1, "000000010000000000000003");
        repo->save_object(victim, seg);
      } else if (id == "prune") {
        PruneMark mark;
        mark.created = now_rfc3339();
        mark.created_unix = 1;
        save_prune_mark(*repo, mark);
        victim = prune_mark_name(mark.id);
      } else if (id == "writers") {
        victim = register_writer(*repo);
      } else if (id == "locks") {
        victim = lock_object_name(add_lock(*repo, s.id, LockMode::LegalHold, 0, "test"));
      } else if (id == "mfa") {
        mfa_enroll(*repo, "test");
        victim = names::kMfaTotp;
      } else if (id == "drills") {
        victim = names::drill_record(random_id());
        repo->save_object(victim, as_view(std::string("{\"drill\": \"nightly\"}")));
      } else if (id == "copied") {
        victim = names::copied_record(s.id);
        repo->save_object(victim, as_view(std::string("{\"snapshot\": \"x\"}")));
      } else {
        victim =
            first_named(*m.mem, std::string(family.prefix), [&](const std::string& n) { return family.matches(n); });
      }
      ASSERT_FALSE(victim.empty());
      ASSERT_EQ(family_of(victim), &family) << victim;
    }
    if (family.id != "keys") damage(*m.mem, victim);
    if (family.id == "config") {
      EXPECT_THROW(m.open(), Error);
      continue;
    }
    auto repo = m.open();
    CheckResult r = check_all(*repo);
    bool found = false;
    for (const auto& e : r.errors) found |= e.object == victim || victim.starts_with(e.object);
    EXPECT_TRUE(found) << "check did not report damaged " << victim;
  }
}

}  // namespace
}  // namespace arca

namespace arca {
namespace {

// The WAL family's sweep (prune): WAL below the first segment of the oldest base backup of its
// system id goes, history files stay, a system id with no base backup keeps all its WAL.
TEST(ObjectFamilies, WalSweepRemovesWhatNoBaseBackupNeeds) {
  MemRepo m;
  auto repo = m.open();
  auto put = [&](const std::string& name) {
    repo->save_object(name, as_view(std::string("wal")));
    return name;
  };
  std::vector<std::string> doomed = {put(names::wal_file(42, 1, "000000010000000000000002")),
                                     put(names::wal_file(42, 1, "000000010000000000000002.partial")),
                                     put(names::wal_file(42, 1, "000000010000000000000001.00000028.backup")),
                                     put(names::wal_piece(42, 1, "000000010000000000000001", 0))};
  std::vector<std::string> kept = {put(names::wal_file(42, 1, "00000001.history")),
                                   put(names::wal_file(42, 1, "000000010000000000000003")),
                                   put(names::wal_file(43, 1, "000000010000000000000001"))};
  Snapshot base;
  base.source_kind = "postgres";
  base.metadata = {{"system_id", {{"type", "string"}, {"value", "42"}}},
                   {"wal_segment_size", {{"type", "int"}, {"value", 16 << 20}}},
                   {"start_lsn", {{"type", "lsn"}, {"value", "0/3000028"}}}};  // segment 3
  for (bool dry_run : {true, false}) {
    auto swept = sweep_object_families(*repo, {base}, dry_run);
    ASSERT_EQ(swept.size(), 1u);
    EXPECT_EQ(swept[0].first, "wal");
    EXPECT_EQ(swept[0].second.objects, doomed.size());
    EXPECT_EQ(swept[0].second.bytes, doomed.size() * m.mem->stat(kept[0])->size);
    ASSERT_EQ(swept[0].second.notes.size(), 1u);
    EXPECT_NE(swept[0].second.notes[0].find("000000000000002b has no base backup left"), std::string::npos);
    for (const auto& n : doomed) EXPECT_EQ(m.mem->stat(n).has_value(), dry_run) << n;
    for (const auto& n : kept) EXPECT_TRUE(m.mem->stat(n)) << n;
  }
}

}  // namespace
}  // namespace arca
