#include "repo/object_families.h"

#include "repo/locks.h"
#include "repo/object_names.h"
#include "repo/prune_marks.h"
#include "repo/wal_retention.h"
#include "util/error.h"

namespace arca {
namespace {

bool is_config(std::string_view n) { return n == names::kConfig; }
bool is_key_file(std::string_view n) { return names::parse_key_file(n).has_value(); }
bool is_keyring_entry(std::string_view n) { return names::parse_keyring_entry(n).has_value(); }
bool is_snapshot(std::string_view n) { return names::parse_snapshot(n).has_value(); }
bool is_index_file(std::string_view n) { return names::parse_index_file(n).has_value(); }
bool is_data_pack(std::string_view n) {
  auto p = names::parse_pack(n);
  return p && p->type == BlobType::Data;
}
bool is_meta_pack(std::string_view n) {
  auto p = names::parse_pack(n);
  return p && p->type == BlobType::Tree;
}
bool is_wal(std::string_view n) { return names::parse_wal(n).has_value(); }
bool is_prune(std::string_view n) { return n == names::kPruneLock || names::parse_prune_mark(n).has_value(); }
bool is_writer(std::string_view n) { return names::parse_writer(n).has_value(); }
bool is_lock(std::string_view n) { return names::parse_lock(n).has_value(); }
bool is_mfa(std::string_view n) { return names::parse_mfa(n).has_value(); }
bool is_drill(std::string_view n) { return names::parse_drill_record(n).has_value(); }
bool is_copied(std::string_view n) { return names::parse_copied_record(n).has_value(); }

void load_marks(const Repository& repo) { load_prune_marks(repo); }
void load_all_locks(const Repository& repo) { load_locks(repo); }

FamilySweepResult sweep_wal(Repository& repo, const std::vector<Snapshot>& snapshots, bool dry_run) {
  WalPruneStats s = prune_wal_archive(repo, snapshots, dry_run);
  return {s.objects, s.bytes, std::move(s.notes)};
}

void set_replication(std::vector<ObjectFamily>& families) {
  using enum Replication;
  const std::pair<std::string_view, std::pair<Replication, std::string_view>> rules[] = {
      {"keys", {Signers, "the key files that signed copied points (their signatures verify there); the replica also "
                         "has its own"}},
      {"config", {Own, "its own (its id, and the id of the repository it replicates)"}},
      {"keyring", {Keyring, "every version, as it is, before anything sealed with it"}},
      {"snapshots", {Point, "as it is, once every blob it needs is stored and indexed there; never again once its "
                            "own retention removed it (copied/)"}},
      {"index", {Own, "its own, for the packs it stores"}},
      {"data", {Blobs, "the blobs copied points need, sealed as they are, in its own packs"}},
      {"meta", {Blobs, "the trees copied points need, sealed as they are, in its own packs"}},
      {"wal", {Raw, "as it is, from the first segment of the oldest base backup there (of each system id) on"}},
      {"prune", {Own, "its own"}},
      {"writers", {Own, "its own (a copy registers as a writer)"}},
      {"locks", {Own, "its own: retention locks are per repository"}},
      {"mfa", {Own, "its own"}},
      {"drills", {Raw, "as it is"}},
      {"copied", {Own, "its own ledger"}},
  };
  for (auto& f : families) {
    bool found = false;
    for (const auto& [id, rule] : rules)
      if (f.id == id) {
        f.replication = rule.first;
        f.replication_rule = rule.second;
        found = true;
      }
    if (!found) throw Error(ErrorKind::Generic, "object family " + std::string(f.id) + " has no replication rule");
  }
}

std::vector<ObjectFamily> make_families() {
  using enum Retention;
  using enum CheckRule;
  std::vector<ObjectFamily> f;
  f.push_back({"keys",
               names::kKeysPrefix,
               {"keys/<64 hex>"},
               is_key_file,
               KeyCommand,
               "removed only by 'arca key remove' (never the last usable key)",
               Structure,
               "every key file parsed; one that cannot open anything is an error"});
  f.push_back({"config",
               names::kConfig,
               {"config"},
               is_config,
               Never,
               "never deleted",
               Structure,
               "authenticated and parsed when the repository is opened"});
  f.push_back({"keyring",
               names::kKeyringPrefix,
               {"keyring/<8 decimal digits>"},
               is_keyring_entry,
               Never,
               "never deleted: a version number is never reused",
               Structure,
               "authenticated when the repository is opened; a missing or damaged version is an error naming what it "
               "sealed"});
  f.push_back({"snapshots",
               names::kSnapshotsPrefix,
               {"snapshots/<64 hex>"},
               is_snapshot,
               Forget,
               "removed only by forget (and 'arca repair snapshots'), never while locked",
               Structure,
               "authenticated and parsed; every tree and blob it needs must be indexed"});
  f.push_back({"index",
               names::kIndexPrefix,
               {"index/<64 hex>"},
               is_index_file,
               Prune,
               "replaced by prune (new files durable first) and 'arca repair index'",
               Structure,
               "authenticated and parsed; every pack it lists must exist"});
  f.push_back({"data",
               names::kDataPacksPrefix,
               {"data/<2 hex>/<64 hex>"},
               is_data_pack,
               Prune,
               "deleted by prune once a mark's grace period has passed and no recovery point needs it",
               Structure,
               "size against the index; with --read-data header, hash and every blob"});
  f.push_back({"meta",
               names::kMetaPacksPrefix,
               {"meta/<2 hex>/<64 hex>"},
               is_meta_pack,
               Prune,
               "deleted by prune once a mark's grace period has passed and no recovery point needs it",
               Structure,
               "size against the index; with --read-data header, hash and every blob"});
  f.push_back({"wal",
               names::kWalPrefix,
               {"wal/<16 hex>/<8 HEX>/<WAL file name>", "wal/<16 hex>/<8 HEX>/pieces/<segment>/<8 HEX>"},
               is_wal,
               Sweep,
               "every prune removes segments, partial segments, backup history files and pieces below the first "
               "segment of the oldest base backup of their system id; history files stay; a system id with no base "
               "backup keeps all",
               Authenticate,
               "counted; with --read-data every object is authenticated",
               nullptr,
               sweep_wal});
  f.push_back({"prune",
               names::kPrunePrefix,
               {"prune/<64 hex>", "prune/running"},
               is_prune,
               Prune,
               "marks are replaced or removed by prune; prune/running by the run holding it",
               Load,
               "every mark read and parsed: one that cannot be read stops prune and deduplication",
               load_marks});
  f.push_back({"writers",
               names::kWritersPrefix,
               {"writers/<64 hex>", "writers/<64 hex>.done"},
               is_writer,
               WriterEnds,
               "removed by the writer when it ends; prune removes ended and stale ones",
               Authenticate,
               "with --read-data every registration is authenticated"});
  f.push_back({"locks",
               names::kLocksPrefix,
               {"locks/<64 hex>/<64 hex>", "locks/<64 hex>/<64 hex>.release"},
               is_lock,
               Never,
               "never deleted or rewritten (a release is a new object)",
               Load,
               "every lock and release read and parsed: one that cannot be read stops prune",
               load_all_locks});
  f.push_back({"mfa",
               names::kMfaPrefix,
               {"mfa/totp", "mfa/used-<decimal>", "mfa/claims/<decimal>/<64 hex>"},
               is_mfa,
               Never,
               "never deleted (a spent step must stay spent)",
               Authenticate,
               "with --read-data every object is authenticated"});
  f.push_back({"drills",
               names::kDrillsPrefix,
               {"drills/<64 hex>"},
               is_drill,
               Never,
               "never deleted: the drill history is evidence (docs/drills.md)",
               Authenticate,
               "with --read-data every drill record is authenticated"});
  f.push_back({"copied",
               names::kCopiedPrefix,
               {"copied/<64 hex>"},
               is_copied,
               Never,
               "never deleted: it keeps a point the replica's retention removed from being copied again",
               Authenticate,
               "with --read-data every record is authenticated"});
  set_replication(f);
  return f;
}

}  // namespace

const std::vector<ObjectFamily>& object_families() {
  static const std::vector<ObjectFamily> families = make_families();
  return families;
}

const ObjectFamily& object_family(std::string_view id) {
  for (const auto& f : object_families())
    if (f.id == id) return f;
  throw Error(ErrorKind::Usage, "no object family '" + std::string(id) + "'");
}

const ObjectFamily* family_of(std::string_view name) {
  for (const auto& f : object_families())
    if (name.starts_with(f.prefix) && f.matches(name)) return &f;
  return nullptr;
}

std::vector<std::pair<std::string, FamilySweepResult>> sweep_object_families(Repository& repo,
                                                                             const std::vector<Snapshot>& snapshots,
                                                                             bool dry_run) {
  std::vector<std::pair<std::string, FamilySweepResult>> out;
  for (const auto& f : object_families())
    if (f.sweep) out.emplace_back(std::string(f.id), f.sweep(repo, snapshots, dry_run));
  return out;
}

}  // namespace arca
