// The one home of every object name in a repository (docs/repository-format.md §1). For each
// family: its list prefix, a builder and a parser (name -> optional parts; nullopt for anything
// malformed, so a stray or planted name is never taken for one of the family). Nothing else in
// the code spells an object name or cuts one with a magic offset: the format is read here.
//
// Blobs (file contents, trees, Kafka archive segments and indexes) live in packs; every name
// here is an object of its own. Which families exist, who may delete them and how check
// verifies them: repo/object_families.h.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/bytes.h"

namespace arca {

enum class BlobType : uint8_t;  // repo/pack.h

namespace names {

// config: repository settings, sealed with the master key.
inline const std::string kConfig = "config";

// keys/<64 hex>: key files (plain JSON). The id is the 64 hex digits.
inline const std::string kKeysPrefix = "keys/";
std::string key_file(std::string_view id);
std::optional<std::string> parse_key_file(std::string_view name);

// keyring/<8 decimal digits>: one data key version.
inline const std::string kKeyringPrefix = "keyring/";
std::string keyring_entry(uint32_t version);
std::optional<uint32_t> parse_keyring_entry(std::string_view name);

// snapshots/<64 hex>
inline const std::string kSnapshotsPrefix = "snapshots/";
std::string snapshot(const Id& id);
std::optional<Id> parse_snapshot(std::string_view name);
// The id digits of a snapshot name (also of a damaged or odd one): what a user types.
std::string_view snapshot_id_text(std::string_view name);

// index/<64 hex>
inline const std::string kIndexPrefix = "index/";
std::string index_file(const Id& id);
std::optional<Id> parse_index_file(std::string_view name);

// data/<2 hex>/<64 hex> (data packs) and meta/<2 hex>/<64 hex> (tree packs); the two-digit
// directory is the id's first byte.
inline const std::string kDataPacksPrefix = "data/";
inline const std::string kMetaPacksPrefix = "meta/";
const std::string& pack_prefix(BlobType type);
std::string pack(BlobType type, const Id& id);
struct PackName {
  Id id;
  BlobType type;
};
std::optional<PackName> parse_pack(std::string_view name);

// The PostgreSQL WAL archive (§10):
//   wal/<system id, 16 hex>/<timeline, 8 HEX>/<WAL file name>
//   wal/<system id, 16 hex>/<timeline, 8 HEX>/pieces/<segment>/<offset, 8 HEX>
inline const std::string kWalPrefix = "wal/";
std::string wal_system_id(uint64_t system_id);      // 16 lowercase hex digits
std::string wal_system_prefix(uint64_t system_id);  // "wal/<16 hex>/"
std::string wal_file(uint64_t system_id, uint32_t timeline, std::string_view file);
std::string wal_pieces_prefix(uint64_t system_id, uint32_t timeline, std::string_view segment);
std::string wal_piece(uint64_t system_id, uint32_t timeline, std::string_view segment, uint32_t offset);
struct WalName {
  std::string system;  // 16 hex digits
  uint32_t timeline = 0;
  std::string file;  // PostgreSQL's file name; for a piece, its segment's
  bool piece = false;
  uint32_t offset = 0;  // pieces only
};
// `file` must be a name PostgreSQL archives (repo/wal_names.h), a piece's segment a segment.
std::optional<WalName> parse_wal(std::string_view name);
// The offset of a piece named under `prefix` (wal_pieces_prefix); nullopt if malformed.
std::optional<uint32_t> parse_wal_piece_offset(std::string_view name, std::string_view prefix);

// prune/<64 hex>: prune marks; prune/running: the prune lock (§13).
inline const std::string kPrunePrefix = "prune/";
inline const std::string kPruneLock = "prune/running";
std::string prune_mark(const Id& id);
std::optional<Id> parse_prune_mark(std::string_view name);

// writers/<64 hex>: a writing session; writers/<64 hex>.done: its end (§9).
inline const std::string kWritersPrefix = "writers/";
std::string writer_session(const Id& id);
std::string writer_done(std::string_view session);  // of a session's name
struct WriterName {
  Id id;
  bool done = false;
};
std::optional<WriterName> parse_writer(std::string_view name);

// locks/<snapshot, 64 hex>/<lock, 64 hex> and its release, the same + ".release" (§14).
inline const std::string kLocksPrefix = "locks/";
std::string lock(const Id& snapshot, const Id& lock);
std::string lock_release(const Id& snapshot, const Id& lock);
struct LockName {
  Id snapshot, lock;
  bool release = false;
};
std::optional<LockName> parse_lock(std::string_view name);

// mfa/totp (the second factor's secret), mfa/used-<step> (a spent TOTP step) and
// mfa/claims/<step>/<64 hex> (a claim on a step, on stores without conditional writes) (§14).
inline const std::string kMfaPrefix = "mfa/";
inline const std::string kMfaTotp = "mfa/totp";
std::string mfa_used(int64_t step);
std::string mfa_claims_prefix(int64_t step);
std::string mfa_claim(int64_t step, const Id& id);
struct MfaName {
  enum class Kind { Totp, Used, Claim } kind = Kind::Totp;
  int64_t step = 0;  // Used, Claim
  Id claim;          // Claim
};
std::optional<MfaName> parse_mfa(std::string_view name);

// drills/<64 hex>: the record of a drill, its report as JSON (§15).
inline const std::string kDrillsPrefix = "drills/";
std::string drill_record(const Id& id);
std::optional<Id> parse_drill_record(std::string_view name);

// copied/<64 hex>: a replica's record that the recovery point with that id was copied to it (§16).
inline const std::string kCopiedPrefix = "copied/";
std::string copied_record(const Id& snapshot);
std::optional<Id> parse_copied_record(std::string_view name);

// tmp/: staging files of a local repository, not part of the repository (readers ignore them).
inline const std::string kStagingPrefix = "tmp/";

}  // namespace names
}  // namespace arca
