#include "repo/replica.h"

#include <openssl/crypto.h>

#include <set>

#include <nlohmann/json.hpp>

#include "crypto/random.h"
#include "repo/envelope.h"
#include "repo/object_names.h"
#include "util/clock.h"
#include "util/error.h"

namespace arca {

namespace {

bool same_key(const Key& a, const Key& b) { return CRYPTO_memcmp(a.b.data(), b.b.data(), a.b.size()) == 0; }

std::string not_a_replica(const std::string& where, const std::string& why) {
  return where + " is not a replica of this repository (" + why +
         "); make one with 'arca init --repo DEST --like SOURCE', which shares the keys a copy needs";
}

}  // namespace

void Repository::init_like(Backend& backend, const Repository& primary, const Credentials& creds,
                           const Argon2Params& kdf) {
  // The replica's key is a full key over the same data: an append-only key must not mint one
  // (docs/security.md: append-only keys never add a full key).
  if (primary.append_only())
    throw Error(ErrorKind::Refused, "an append-only key cannot make a replica: the replica's own key would be a full "
                                    "key over this repository's data; open the source with a full key");
  Keyring keys;
  keys.master = primary.keys_.master;
  // A replica of this repository whose init was interrupted before its key file was stored (only
  // this repository's keys open it) is finished; anything else at the location is refused.
  bool resume = false;
  if (backend.exists() && backend.stat(names::kConfig)) {
    try {
      RepoConfig there = RepoConfig::decode(unseal(keys, backend.get(names::kConfig), names::kConfig, names::kConfig));
      resume = there.replica_of == primary.config_.repo_id && !replica_has_own_key(primary.backend(), backend);
    } catch (const Error&) {
    }
    if (!resume) throw Error(ErrorKind::Refused, "a repository already exists at " + backend.location());
  } else if (backend.exists() && !list_key_files(backend).empty()) {  // key files but no config: not ours
    throw Error(ErrorKind::Refused, "a repository already exists at " + backend.location());
  }
  if (!resume) backend.create();
  // As init: the key is derived first and stored last, so nothing opens a half-made replica.
  KeyFileText key = make_key_file(keys.master, creds, kdf);
  if (!resume) {
    RepoConfig cfg = primary.config_;
    cfg.repo_id = random_id();
    cfg.created = now_rfc3339();
    cfg.replica_of = primary.config_.repo_id;
    if (!backend.put_if_absent(names::kConfig, seal(keys, 0, cfg.encode(), 0, names::kConfig)))
      throw Error(ErrorKind::Refused, "a repository already exists at " + backend.location());
  }
  primary.backend().list(names::kKeyringPrefix, [&](const ObjectInfo& o) {
    if (names::parse_keyring_entry(o.name) && !backend.stat(o.name))
      backend.put_if_absent(o.name, primary.backend().get(o.name));
  });
  store_key_file(backend, key);
}

std::unique_ptr<Repository> Repository::open_replica(std::unique_ptr<Backend> backend, const Repository& primary) {
  std::string where = backend->location();
  if (!backend->exists() || !backend->stat(names::kConfig))
    throw Error(ErrorKind::NotFound, "no repository at " + where +
                                         ": make the replica first with 'arca init --repo " + where + " --like " +
                                         primary.backend().location() + "'");
  Keyring keys;
  keys.master = primary.keys_.master;
  RepoConfig cfg;
  try {
    cfg = RepoConfig::decode(unseal(keys, backend->get(names::kConfig), names::kConfig, names::kConfig));
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::Corrupt) throw;
    throw Error(ErrorKind::Refused, not_a_replica(where, "its config does not open with this repository's master key"));
  }
  if (!same_key(cfg.id_key, primary.config_.id_key) || !same_key(cfg.chunker_seed, primary.config_.chunker_seed))
    throw Error(ErrorKind::Refused, not_a_replica(where, "it has other content keys"));
  if (cfg.repo_id == primary.config_.repo_id)
    throw Error(ErrorKind::Refused, where + " is this repository itself");
  // Copies go one way, from a repository to its replica: the other way would bring back what the
  // primary's retention removed, and put the replica's keys into the primary.
  if (primary.config_.replica_of == cfg.repo_id)
    throw Error(ErrorKind::Refused, where + " is the repository this one replicates: copies go from it to its "
                                            "replicas, never back (restore from here with the restore commands)");
  if (cfg.replica_of != primary.config_.repo_id)
    throw Error(ErrorKind::Refused,
                not_a_replica(where, cfg.replica_of ? "it replicates repository " + cfg.replica_of->short_hex()
                                                    : "it shares this repository's keys but replicates nothing"));
  keys.id_key = cfg.id_key;
  keys.chunker_seed = cfg.chunker_seed;
  std::vector<std::string> damaged = load_keyring(*backend, keys);
  // The copy writes with the rights of the key that opened the primary: an append-only key adds
  // to the replica and removes nothing there either.
  auto repo = std::unique_ptr<Repository>(new Repository(std::move(backend), std::move(keys), std::move(cfg), primary.key_id_,
                                                         primary.append_only() ? KeyRole::AppendOnly : KeyRole::Full));
  repo->damaged_keyring_ = std::move(damaged);
  return repo;
}

uint64_t copy_keyring(const Repository& primary, Repository& replica) {
  std::vector<std::string> missing;
  primary.backend().list(names::kKeyringPrefix, [&](const ObjectInfo& o) {
    auto version = names::parse_keyring_entry(o.name);
    if (version && primary.keys().find(*version) && !replica.keys().find(*version)) missing.push_back(o.name);
  });
  uint64_t copied = 0;
  for (const auto& name : missing) copied += replica.backend().put_if_absent(name, primary.backend().get(name));
  if (copied) replica.refresh();
  for (const auto& [version, key] : primary.keys().data_keys) {
    const Key* theirs = replica.keys().find(version);
    if (!theirs)
      throw Error(ErrorKind::Refused, "the replica " + replica.backend().location() + " cannot read its " +
                                           keyring_entry_name(version) + " (" + replica.keys().unavailable_reason(version) +
                                           "): nothing sealed with that data key can be copied to it");
    if (!same_key(*theirs, key))
      throw Error(ErrorKind::Refused, "the replica " + replica.backend().location() + " has another data key as " +
                                           keyring_entry_name(version) +
                                           " than this repository: it was changed outside 'arca copy'; nothing "
                                           "sealed with that version can be copied to it");
  }
  return copied;
}

bool replica_has_own_key(const Backend& primary, const Backend& replica) {
  std::set<std::string> theirs;
  for (const auto& k : list_key_files(primary)) theirs.insert(k.id);
  for (const auto& k : list_key_files(replica))
    if (!theirs.count(k.id)) return true;
  return false;
}

void save_copied_record(Repository& replica, const Snapshot& point) {
  nlohmann::json j = {{"snapshot", point.id.hex()}, {"time", point.time}, {"copied", now_rfc3339()}};
  std::string s = j.dump();
  replica.save_object_if_absent(names::copied_record(point.id), Bytes(s.begin(), s.end()));
}

}  // namespace arca
