#include "repo/repository.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <set>

#include "crypto/hash.h"
#include "crypto/random.h"
#include "crypto/sign.h"
#include "repo/decode_guard.h"
#include "repo/envelope.h"
#include "repo/future_points.h"
#include "repo/object_names.h"
#include "repo/prune_marks.h"
#include "repo/repair_scan.h"
#include "storage/append_only_backend.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/parallel_for.h"

namespace arca {

using nlohmann::json;

void Repository::save_keyring_entry(Backend& backend, const Keyring& keys, uint32_t version, const Key& key) {
  json j = {{"version", version}, {"key", to_base64(key.b)}, {"created", now_rfc3339()}};
  std::string s = j.dump();
  std::string name = names::keyring_entry(version);
  Bytes sealed = seal(keys, 0, as_view(s), 0, name);
  if (!backend.put_if_absent(name, sealed))
    throw Error(ErrorKind::Conflict,
                "data key version " + std::to_string(version) + " was created concurrently; retry");
}

void Repository::init(Backend& backend, const Credentials& creds, const InitOptions& opts) {
  opts.chunker.validate();
  if (backend.exists() && (backend.stat(names::kConfig) || !list_key_files(backend).empty()))
    throw Error(ErrorKind::Refused, "a repository already exists at " + backend.location());
  backend.create();
  Keyring keys;
  keys.master = random_key();
  RepoConfig cfg;
  cfg.repo_id = random_id();
  cfg.created = now_rfc3339();
  cfg.chunker = opts.chunker;
  cfg.zstd_level = opts.zstd_level;
  cfg.data_pack_size = opts.data_pack_size;
  cfg.meta_pack_size = opts.meta_pack_size;
  cfg.id_key = random_key();
  cfg.chunker_seed = random_key();
  // The key is derived first (bad parameters fail before anything is written) and stored last:
  // until it exists, nothing can open a half-made repository.
  KeyFileText key = make_key_file(keys.master, creds, opts.kdf);
  Bytes cfg_plain = cfg.encode();
  if (!backend.put_if_absent(names::kConfig, seal(keys, 0, cfg_plain, 0, names::kConfig)))
    throw Error(ErrorKind::Refused, "a repository already exists at " + backend.location());
  save_keyring_entry(backend, keys, 1, random_key());
  store_key_file(backend, key);
}

Repository::Repository(std::unique_ptr<Backend> backend, Keyring keys, RepoConfig config, std::string key_id,
                       KeyRole role)
    : backend_(role == KeyRole::AppendOnly ? std::make_unique<AppendOnlyBackend>(std::move(backend), key_id)
                                           : std::move(backend)),
      keys_(std::move(keys)),
      config_(std::move(config)),
      key_id_(std::move(key_id)),
      role_(role),
      chunker_(config_.chunker, config_.chunker_seed) {
  // Object stores: each ranged GET is a round trip and costs the server work of its own, so
  // packs are read in aligned 4 MiB windows, one per transfer slot (2 MiB windows cost radosgw
  // ~7% more CPU per restore for the same memory; docs/benchmarks.md).
  if (unsigned n = backend_->parallelism(); n > 1) read_ahead_ = std::make_unique<PackReadAhead>(*backend_, 4 << 20, n);
}

std::vector<std::string> Repository::load_keyring(const Backend& backend, Keyring& keys) {
  std::vector<std::string> damaged_keyring;
  // A damaged keyring entry makes only the data sealed with its version unreadable: the
  // repository still opens, and `check` names the version and what depends on it.
  backend.list(names::kKeyringPrefix, [&](const ObjectInfo& o) {
    // A damaged entry's version comes from its name, so messages can say "damaged", not "unknown".
    auto note_damaged = [&](const std::string& why) {
      damaged_keyring.push_back(why);
      if (auto version = names::parse_keyring_entry(o.name)) keys.damaged_entries[*version] = without_name(why, o.name);
    };
    try {
      Bytes plain = unseal(keys, backend.get(o.name), o.name, o.name);
      json j = json::parse(plain.begin(), plain.end());
      Bytes k = from_base64(j.at("key").get<std::string>());
      if (k.size() != 32) throw Error(ErrorKind::Corrupt, o.name + ": key of wrong length");
      Key key;
      std::copy(k.begin(), k.end(), key.b.begin());
      keys.data_keys[j.at("version").get<uint32_t>()] = key;
    } catch (const json::exception& e) {
      note_damaged(o.name + " is malformed: " + e.what());
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Corrupt) throw;
      note_damaged(e.what());
    }
  });
  if (keys.data_keys.empty())
    throw Error(ErrorKind::Corrupt, "repository has no usable data keys (keyring/ is empty or damaged" +
                                        (damaged_keyring.empty() ? std::string() : ": " + damaged_keyring[0]) + ")");
  return damaged_keyring;
}

std::unique_ptr<Repository> Repository::open(std::unique_ptr<Backend> backend, const Credentials& creds) {
  UnlockedKey unlocked = unlock_master_key(*backend, creds);
  Keyring keys;
  keys.master = unlocked.master;
  RepoConfig cfg = RepoConfig::decode(unseal(keys, backend->get(names::kConfig), names::kConfig, names::kConfig));
  keys.id_key = cfg.id_key;
  keys.chunker_seed = cfg.chunker_seed;
  std::vector<std::string> damaged_keyring = load_keyring(*backend, keys);
  auto repo = std::unique_ptr<Repository>(
      new Repository(std::move(backend), std::move(keys), std::move(cfg), unlocked.id, unlocked.role));
  repo->damaged_keyring_ = std::move(damaged_keyring);
  repo->signing_seed_ = std::move(unlocked.signing_seed);
  return repo;
}

Id Repository::blob_id(ByteView plain) const { return hmac_sha256(keys_.id_key, plain); }

Bytes Repository::load_object(const std::string& name) const { return unseal(keys_, backend_->get(name), name, name); }

void Repository::save_object(const std::string& name, ByteView payload) {
  if (!save_object_if_absent(name, payload)) throw Error(ErrorKind::Conflict, "object " + name + " already exists");
}

bool Repository::save_object_if_absent(const std::string& name, ByteView payload) {
  return backend_->put_if_absent(name, seal(keys_, keys_.current_version(), payload, config_.zstd_level, name));
}

const Index& Repository::index() {
  if (index_ready_.load(std::memory_order_acquire)) return index_;
  std::lock_guard load_lock(index_mu_);
  if (!index_ready_)
    [&] {
      // A prune replaces index files (new ones first, then the old ones go): one that vanished
      // between listing and reading means the listing is stale, so the new files are listed and
      // read too (packs listed twice are added once).
      std::set<std::string> done;
      std::mutex mu;
      std::vector<std::string> damaged_index;
      for (int attempt = 1;; attempt++) {
        std::vector<std::string> names;
        backend_->list(names::kIndexPrefix, [&](const ObjectInfo& o) {
          if (!done.count(o.name)) names.push_back(o.name);
        });
        // Fetched in parallel where each GET is a round trip; each file is added as soon as it is
        // decoded, so memory holds the index plus only the files in flight.
        std::atomic<bool> vanished{false};
        parallel_for(names.size(), backend_->parallelism(), [&](size_t i) {
          try {
            auto packs = decode_guarded(names[i], [&] { return decode_index_file(load_object(names[i]), names[i]); });
            std::lock_guard lk(mu);
            for (const auto& p : packs) index_.add(p);
          } catch (const Error& e) {
            if (e.kind() == ErrorKind::NotFound) {
              vanished = true;
              return;
            }
            if (e.kind() != ErrorKind::Corrupt) throw;
            std::lock_guard lk(mu);
            damaged_index.push_back(e.what());
          }
        });
        done.insert(names.begin(), names.end());
        if (!vanished) break;
        if (attempt == 10)
          throw Error(ErrorKind::Io, "index files keep vanishing while they are read; run the command again");
      }
      // One damaged index object must not hide the packs it listed: those no intact index file
      // lists are read from their own headers (and not deduplicated against until repaired).
      std::vector<Id> from_headers;
      if (!damaged_index.empty()) {
        std::string why = damaged_index.size() == 1 ? "damaged index object: " : "damaged index objects: ";
        for (size_t i = 0; i < damaged_index.size(); i++) why += (i ? "; " : "") + damaged_index[i];
        index_packs_from_headers(*backend_, keys_, index_, index_, why, false, from_headers,
                                 [&](const std::string& m) { warn(m); });
      }
      // Packs a prune has marked for deletion stay readable but are not deduplicated against. If
      // the marks cannot be read, no pack is trusted for deduplication (writers store everything
      // again): deduplicating against a pack a prune is deleting would lose data.
      try {
        for (const auto& mark : load_prune_marks(*this))
          for (const auto& pack : mark.packs)
            if (auto p = names::parse_pack(pack))
              index_.condemn(p->id);
            else
              throw Error(ErrorKind::Corrupt, "prune mark " + mark.id.hex() + " lists '" + pack + "', not a pack name");
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::Corrupt && e.kind() != ErrorKind::Usage) throw;
        warn(std::string(e.what()) +
             ": new data is not deduplicated against existing packs until it is mended "
             "(run 'arca check'; 'arca prune' will not run meanwhile)");
        index_.condemn_all();
      }
      for (const auto& p : from_headers) index_.condemn(p);
      index_.finalize();
      index_files_.assign(done.begin(), done.end());
      index_ready_ = true;
    }();
  return index_;
}

PackReadAhead::Slice Repository::sealed_blob(const std::string& pack, const BlobLocation& loc) const {
  return read_ahead_ ? read_ahead_->read(pack, loc.offset, loc.length)
                     : PackReadAhead::Slice::own(backend_->get_range(pack, loc.offset, loc.length));
}

Bytes Repository::read_blob(const Id& id, const BlobLocation& loc) const {
  try {
    return read_blob_copy(id, loc);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::Corrupt && e.kind() != ErrorKind::NotFound) throw;
    for (const auto& other : other_copies(id, loc)) {
      try {
        Bytes b = read_blob_copy(id, other);
        warn(std::string(e.what()) + "; read its copy in pack " + pack_name(other.type, other.pack) +
             " instead (run 'arca check --read-data')");
        return b;
      } catch (const Error& e2) {
        if (e2.kind() != ErrorKind::Corrupt && e2.kind() != ErrorKind::NotFound) throw;
      }
    }
    throw;
  }
}

std::vector<BlobLocation> Repository::other_copies(const Id& id, const BlobLocation& failed) const {
  std::vector<BlobLocation> out;
  if (!index_ready_) return out;
  auto differs = [&](const BlobLocation& l) { return l.pack != failed.pack || l.offset != failed.offset; };
  for (const auto& l : index_.copies(id))
    if (differs(l)) out.push_back(l);
  // A copy no index lists (its index object deleted) serves too.
  for (const auto& l : unlisted("the indexed copy of blob " + id.short_hex() + " is unreadable").copies(id))
    if (differs(l)) out.push_back(l);
  return out;
}

Bytes Repository::read_blob_copy(const Id& id, const BlobLocation& loc) const {
  std::string pack = pack_name(loc.type, loc.pack);
  std::string what = "blob " + id.short_hex() + " in pack " + pack;
  // An uncompressed payload needs no copy; a compressed one may not claim more than the index
  // records for the blob (docs/security.md, "Decompression").
  Bytes plain = unseal(keys_, sealed_blob(pack, loc).view, what, {}, loc.raw_length);
  if (plain.size() != loc.raw_length || blob_id(plain) != id)
    throw Error(ErrorKind::Corrupt, what + ": content does not match its id");
  return plain;
}

void Repository::read_blob_into(const Id& id, const BlobLocation& loc, std::span<uint8_t> out) const {
  std::string pack = pack_name(loc.type, loc.pack);
  std::string what = "blob " + id.short_hex() + " in pack " + pack;
  try {
    unseal_into(keys_, sealed_blob(pack, loc).view, out, what);
    if (blob_id(out) != id) throw Error(ErrorKind::Corrupt, what + ": content does not match its id");
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::Corrupt && e.kind() != ErrorKind::NotFound) throw;
    if (other_copies(id, loc).empty()) throw;
    Bytes b = read_blob(id, loc);  // tries the other copies (and warns)
    if (b.size() != out.size()) throw;
    std::copy(b.begin(), b.end(), out.begin());
  }
}

void Repository::expect_blob_read(const BlobLocation& loc) const {
  if (read_ahead_) read_ahead_->expect(pack_name(loc.type, loc.pack), loc.offset, loc.length);
}

void Repository::forget_blob_reads() const {
  if (read_ahead_) read_ahead_->forget_expected();
}

std::optional<BlobLocation> Repository::find_blob(const Id& id) {
  if (auto loc = index().find(id)) return loc;
  return unlisted("blob " + id.short_hex() + " is in no index object (one was deleted, or never written)").find(id);
}

const Index& Repository::unindexed_packs() {
  index();
  return unlisted("packs are in no index object (one was deleted, or never written)");
}

// An index object deleted (or never written for a pack another point uses) leaves its packs in
// no index: their headers say where the blob is. Read once; the result is immutable. Needs the
// index loaded.
const Index& Repository::unlisted(const std::string& why) const {
  if (unlisted_ready_.load(std::memory_order_acquire)) return unlisted_;
  std::lock_guard load_lock(unlisted_mu_);
  if (!unlisted_ready_) {
    std::vector<Id> added;
    index_packs_from_headers(*backend_, keys_, index_, unlisted_, why, true, added,
                             [&](const std::string& m) { warn(m); });
    unlisted_.finalize();
    unlisted_ready_ = true;
  }
  return unlisted_;
}

Bytes Repository::read_blob(const Id& id) {
  auto loc = find_blob(id);
  if (!loc) throw Error(ErrorKind::Corrupt, "blob " + id.short_hex() + " is not in the index (missing data)");
  return read_blob(id, *loc);
}

Tree Repository::load_tree(const Id& id) {
  std::string what = "tree " + id.short_hex();
  return decode_guarded(what, [&] { return decode_tree(read_blob(id), what); });
}

Snapshot Repository::load_snapshot(const std::string& name) const {
  auto parsed = names::parse_snapshot(name);
  if (!parsed) throw Error(ErrorKind::Corrupt, name + " is not a snapshot name");
  Id id = *parsed;
  Bytes plain = load_object(name);
  try {
    return decode_guarded(name, [&] { return Snapshot::from_json(json::parse(plain.begin(), plain.end()), id); });
  } catch (const json::exception& e) {
    throw Error(ErrorKind::Corrupt, name + " is malformed: " + e.what());
  }
}

std::string Repository::snapshot_object_name(const std::string& ref) const {
  if (ref.size() < 4 || ref.find_first_not_of("0123456789abcdef") != std::string::npos)
    throw Error(ErrorKind::Usage,
                "'" + ref + "' is not a snapshot id: give 'latest' or at least 4 lowercase hex digits");
  std::vector<std::string> hits;
  backend_->list(names::kSnapshotsPrefix, [&](const ObjectInfo& o) {
    if (names::snapshot_id_text(o.name).starts_with(ref)) hits.push_back(o.name);
  });
  if (hits.empty()) throw Error(ErrorKind::NotFound, "no snapshot " + ref + " (see 'arca snapshots')");
  if (hits.size() > 1) throw Error(ErrorKind::Usage, "snapshot id prefix " + ref + " is ambiguous; give more digits");
  return hits[0];
}

std::vector<Snapshot> Repository::list_snapshots() const { return load_snapshots(false); }
std::vector<Snapshot> Repository::list_snapshots_strict() const { return load_snapshots(true); }

std::vector<Snapshot> Repository::load_snapshots(bool strict) const {
  std::vector<Snapshot> out;
  std::vector<std::string> objects;
  backend_->list(names::kSnapshotsPrefix, [&](const ObjectInfo& o) { objects.push_back(o.name); });
  std::vector<std::optional<Snapshot>> loaded(objects.size());
  std::vector<std::string> damaged(objects.size());
  parallel_for(objects.size(), backend_->parallelism(), [&](size_t i) {
    try {
      loaded[i] = load_snapshot(objects[i]);
    } catch (const KeyVersionUnavailable& e) {
      // Not damage: the point comes back when the keyring entry does, so nothing suggests removing it.
      if (strict)
        throw KeyVersionUnavailable(e.version(), std::string(e.what()) + "; stopped before changing anything");
      damaged[i] = std::string(e.what()) + "; skipped until then (do not forget or repair it: it is recoverable)";
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::NotFound) return;  // forgotten since the listing
      if (e.kind() != ErrorKind::Corrupt) throw;
      // The way out of a damaged snapshot object (it blocks prune, and forget cannot plan with it).
      if (strict)
        throw Error(ErrorKind::Corrupt, std::string(e.what()) +
                                            "; stopped before changing anything: run 'arca repair "
                                            "snapshots' to list and remove damaged snapshot objects");
      damaged[i] = std::string(e.what()) + "; skipped ('arca forget " +
                   std::string(names::snapshot_id_text(objects[i]).substr(0, 8)) +
                   "' or 'arca repair snapshots' removes it)";
    }
  });
  for (size_t i = 0; i < objects.size(); i++) {
    if (!damaged[i].empty()) warn(damaged[i]);
    if (loaded[i]) out.push_back(std::move(*loaded[i]));
  }
  std::sort(out.begin(), out.end(), [](const Snapshot& a, const Snapshot& b) { return a.time < b.time; });
  return out;
}

Snapshot Repository::read_snapshot(const Id& id) const { return load_snapshot(names::snapshot(id)); }

Snapshot Repository::find_snapshot(const std::string& ref) const {
  if (ref == "latest") {
    auto all = list_snapshots();
    if (all.empty()) throw Error(ErrorKind::NotFound, "the repository has no readable snapshots");
    std::vector<std::string> skipped;
    auto newest = newest_point(
        all, [](const Snapshot&) { return true; }, clock_now(), skipped);
    for (const auto& m : skipped) warn(m);
    if (!newest)
      throw Error(ErrorKind::NotFound,
                  "every readable snapshot is dated in the future, and 'latest' never picks such a "
                  "point: give its id (see 'arca snapshots')");
    return *newest;
  }
  // By name: only the chosen snapshot is read, so other damaged snapshots do not matter.
  std::string name = snapshot_object_name(ref);
  try {
    return load_snapshot(name);
  } catch (const KeyVersionUnavailable&) {
    throw;  // recoverable: no advice to remove it
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::Corrupt) throw;
    throw Error(ErrorKind::Corrupt,
                std::string(e.what()) + " (to remove it: 'arca forget " + ref + "' or 'arca repair snapshots')");
  }
}

std::optional<Snapshot> Repository::latest_snapshot(const std::function<bool(const Snapshot&)>& match) const {
  std::vector<std::string> skipped;
  auto newest = newest_point(list_snapshots(), match, clock_now(), skipped);
  for (const auto& m : skipped) warn(m);
  return newest;
}

void Repository::save_snapshot(Snapshot& snap) {
  if (snap.id.is_zero()) snap.id = random_id();
  // Which key wrote it, signed with that key file's signing key when it has one, so the record
  // is proof rather than a claim (see docs/security.md, "Future-dated recovery points").
  snap.key_id = key_id_;
  json j = snap.to_json();
  // Paths and warnings are for display: bytes that are not UTF-8 become U+FFFD here.
  std::string s = Snapshot::canonical_text(j);
  snap.signature.clear(), snap.signed_text.clear();
  if (!signing_seed_.empty()) {
    snap.signed_text = s;
    snap.signature = to_base64(sign_message(signing_seed_, as_view(s)));
    j["signature"] = snap.signature;
    s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  save_object(names::snapshot(snap.id), as_view(s));
}

// A version number is never used twice: a missing or damaged entry (moved away, being restored)
// may still seal stored objects, and a new key under its number would make them unreadable for
// good. So rotation waits for a complete keyring and numbers above every version in use.
uint32_t Repository::rotate_data_key() {
  if (config_.replica_of)
    throw Error(ErrorKind::Refused, "key rotate refused: this repository is a replica of repository " +
                                        config_.replica_of->short_hex() +
                                        " and shares its data keys; rotate the key there, and the next "
                                        "'arca copy' brings the new version here");
  if (std::string note = keys_.unavailable_note(); !note.empty())
    throw Error(ErrorKind::Refused, "key rotate refused: " + note);
  uint32_t highest = keys_.current_version();
  for (const std::string* prefix : {&names::kIndexPrefix, &names::kSnapshotsPrefix}) {
    std::vector<std::string> names;
    backend_->list(*prefix, [&](const ObjectInfo& o) { names.push_back(o.name); });
    for (const auto& name : names) {
      Bytes h;
      try {
        h = backend_->get_range_upto(name, 0, kEnvelopeHeader);
      } catch (const Error& e) {
        if (e.kind() == ErrorKind::NotFound) continue;  // removed since the listing
        throw;
      }
      if (h.size() < kEnvelopeHeader) continue;  // damaged: check reports it
      uint32_t version = uint32_t(h[1]) | uint32_t(h[2]) << 8 | uint32_t(h[3]) << 16 | uint32_t(h[4]) << 24;
      if (version > highest)
        throw Error(ErrorKind::Refused, "key rotate refused: " + name + " is sealed with data key version " +
                                            std::to_string(version) + ", but " + keys_.unavailable_reason(version) +
                                            ". Restore that entry first (a new key under its number would make such "
                                            "objects unreadable for good)");
    }
  }
  uint32_t v = highest + 1;
  Key k = random_key();
  save_keyring_entry(*backend_, keys_, v, k);
  keys_.data_keys[v] = k;
  return v;
}

void Repository::refresh() {
  Keyring keys;
  keys.master = keys_.master;
  keys.id_key = keys_.id_key;
  keys.chunker_seed = keys_.chunker_seed;
  damaged_keyring_ = load_keyring(*backend_, keys);
  keys_ = std::move(keys);
  std::lock_guard index_lock(index_mu_);
  std::lock_guard unlisted_lock(unlisted_mu_);
  index_ = Index();
  index_files_.clear();
  index_ready_ = false;
  unlisted_ = Index();
  unlisted_ready_ = false;
}

}  // namespace arca
