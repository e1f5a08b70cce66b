// An open repository: its backend, keys, config and (lazily) index; reading blobs, trees and
// snapshots. The objects in the backend and their names: repo/object_names.h and
// repo/object_families.h (docs/repository-format.md §1).
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "chunk/fastcdc.h"
#include "repo/config.h"
#include "repo/index.h"
#include "repo/key_files.h"
#include "repo/keyring.h"
#include "repo/pack_read_ahead.h"
#include "repo/snapshot.h"
#include "repo/tree.h"
#include "storage/backend.h"

namespace arca {

struct InitOptions {
  ChunkerParams chunker;
  int zstd_level = 3;
  uint32_t data_pack_size = 16 * 1024 * 1024;
  uint32_t meta_pack_size = 4 * 1024 * 1024;
  Argon2Params kdf;
};

class Repository {
 public:
  // Creates a new repository; refuses if one already exists at the location.
  static void init(Backend& backend, const Credentials& creds, const InitOptions& opts);
  static std::unique_ptr<Repository> open(std::unique_ptr<Backend> backend, const Credentials& creds);
  // Creates a replica of `primary` (repo/replica.cpp, docs/replication.md): a new repository
  // with its own id and a key file for `creds`, sharing the primary's master key, id key,
  // chunker and data keys, so that blobs and objects copied from the primary stay valid as they
  // are. Refuses if a repository already exists at the location.
  static void init_like(Backend& backend, const Repository& primary, const Credentials& creds,
                        const Argon2Params& kdf);
  // Opens a replica of `primary` with the primary's master key (a replicator needs no password
  // of the replica's); throws Error(Refused) if the repository at `backend` is not one.
  static std::unique_ptr<Repository> open_replica(std::unique_ptr<Backend> backend, const Repository& primary);

  Backend& backend() { return *backend_; }
  const Backend& backend() const { return *backend_; }
  const Keyring& keys() const { return keys_; }
  const RepoConfig& config() const { return config_; }
  const std::string& key_id() const { return key_id_; }
  // Opened with an append-only key: the backend refuses every delete and overwrite.
  bool append_only() const { return role_ == KeyRole::AppendOnly; }
  const Chunker& chunker() const { return chunker_; }
  Id blob_id(ByteView plain) const;

  // Whole sealed objects (config, index, snapshots).
  Bytes load_object(const std::string& name) const;
  void save_object(const std::string& name, ByteView payload);
  bool save_object_if_absent(const std::string& name, ByteView payload);  // false: it exists

  // The index of all packs, loaded from index/ on first use.
  const Index& index();
  // The index files index() read (writers compare them with a later listing: a file that went
  // means a prune rewrote the index, and may have deleted packs, since).
  const std::vector<std::string>& index_files() const { return index_files_; }
  // Where a blob is stored, for readers: the index, or on a miss the headers of the packs no
  // index object lists (one deleted, or never written), read once per repository object.
  std::optional<BlobLocation> find_blob(const Id& id);
  // The packs no index object lists, read from their headers (once, with a warning naming
  // 'arca repair index' if there are any): for figures over the whole repository.
  const Index& unindexed_packs();
  // Reads, authenticates, decompresses and verifies one blob. If that copy fails (damaged, or its
  // pack is gone) and the blob is stored elsewhere too (concurrent backups), the other copies
  // are tried, with a warning; the first error is thrown when none is intact.
  Bytes read_blob(const Id& id, const BlobLocation& loc) const;
  // Exactly this copy, no fallback (prune verifying the copy it keeps).
  Bytes read_blob_copy(const Id& id, const BlobLocation& loc) const;
  // The same into `out`, which must be loc.raw_length bytes (saves a copy for callers that
  // assemble blobs in a buffer of their own).
  void read_blob_into(const Id& id, const BlobLocation& loc, std::span<uint8_t> out) const;
  // Tells the read-ahead of an object store that this blob will be read (see PackReadAhead::expect);
  // forget_blob_reads() when done.
  void expect_blob_read(const BlobLocation& loc) const;
  void forget_blob_reads() const;
  Bytes read_blob(const Id& id);
  Tree load_tree(const Id& id);

  std::vector<Snapshot> list_snapshots() const;  // sorted by time
  // The same, but a damaged snapshot is an error: for operations that delete what no snapshot
  // references (a skipped snapshot would look like garbage).
  std::vector<Snapshot> list_snapshots_strict() const;
  // "latest", a full id or a unique prefix; throws Error(NotFound/Usage).
  Snapshot find_snapshot(const std::string& ref) const;
  // The snapshot with exactly this id (one read, no listing); throws Error(NotFound/Corrupt).
  Snapshot read_snapshot(const Id& id) const;
  // The newest recovery point `match` accepts that is not dated in the future (repo/future_points.h),
  // warning about each future-dated one passed over; nullopt when there is none.
  std::optional<Snapshot> latest_snapshot(const std::function<bool(const Snapshot&)>& match) const;
  // The snapshot object ("snapshots/<id>") a full id or unique prefix names, without reading it
  // (so a damaged one can be named too); throws Error(NotFound/Usage).
  std::string snapshot_object_name(const std::string& ref) const;
  void save_snapshot(Snapshot& snap);

  // Keyring entries that could not be read when the repository was opened (their data key
  // versions are unknown to this session), with the reason.
  const std::vector<std::string>& damaged_keyring() const { return damaged_keyring_; }

  // Adds a new data key version used by all later writes; returns it.
  uint32_t rotate_data_key();

  // For a long-lived handle (a daemon running job after job on one open repository, so that the
  // key is derived once): forgets what it caches of state others change, so that the next use
  // sees their writes. The keyring is read again at once (versions added by 'key rotate'); the
  // index, the condemned set (prune marks) and the packs no index lists are read again on next
  // use. No key derivation. Not while another thread uses the handle: references returned by
  // index() and unindexed_packs() are invalid afterwards.
  void refresh();

  // Damaged snapshot or index objects are skipped (so one bad object cannot block every restore)
  // and reported here; `check` reports them as errors.
  void set_warning_handler(std::function<void(const std::string&)> fn) { on_warning_ = std::move(fn); }
  void warning(const std::string& msg) const { warn(msg); }

 private:
  Repository(std::unique_ptr<Backend> backend, Keyring keys, RepoConfig config, std::string key_id, KeyRole role);
  static void save_keyring_entry(Backend& backend, const Keyring& keys, uint32_t version, const Key& key);
  // Reads every keyring entry into `keys` (whose master key is set); returns the damaged ones.
  static std::vector<std::string> load_keyring(const Backend& backend, Keyring& keys);
  std::unique_ptr<Backend> backend_;
  Keyring keys_;
  RepoConfig config_;
  std::string key_id_;
  KeyRole role_;
  Chunker chunker_;
  Snapshot load_snapshot(const std::string& name) const;
  std::vector<Snapshot> load_snapshots(bool strict) const;
  PackReadAhead::Slice sealed_blob(const std::string& pack, const BlobLocation& loc) const;
  void warn(const std::string& msg) const {
    if (on_warning_) on_warning_(msg);
  }
  std::function<void(const std::string&)> on_warning_;
  std::vector<std::string> damaged_keyring_;
  Bytes signing_seed_;   // the opened key file's signing key: new points are signed with it (may be empty)
  std::mutex index_mu_;  // loading the index (index_ready_ is the fast path)
  Index index_;
  std::vector<std::string> index_files_;
  // The blob's copies other than `failed`, once the index is loaded (else none).
  std::vector<BlobLocation> other_copies(const Id& id, const BlobLocation& failed) const;
  const Index& unlisted(const std::string& why) const;  // `why` the packs are read, if they are
  std::atomic<bool> index_ready_{false};
  // A cache, built on first need (also by const readers falling back to another copy).
  mutable std::mutex unlisted_mu_;
  mutable std::atomic<bool> unlisted_ready_{false};
  mutable Index unlisted_;                     // packs no index object lists, from their headers (find_blob's fallback)
  std::unique_ptr<PackReadAhead> read_ahead_;  // only for backends that want parallel transfers
};

}  // namespace arca
