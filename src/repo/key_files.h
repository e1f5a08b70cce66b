// Key files ("keys/<id>", plain JSON): each wraps the repository's master key with a
// key-encryption key derived from a passphrase (Argon2id) or from a key file's bytes.
// Any one of them opens the repository.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "crypto/kdf.h"
#include "crypto/key.h"
#include "storage/backend.h"
#include "util/bytes.h"

namespace arca {

// What the user presents to open (or protect) a repository: a passphrase or a key file.
struct Credentials {
  std::optional<std::string> passphrase;
  std::optional<std::string> key_file;  // path to a file of at least 32 random bytes
};

// What a key may do. Append-only keys (for the hosts being backed up) add recovery points but
// never delete or replace anything. The role is bound into the wrapped master key's associated
// data, so editing the key file's "role" makes it unusable rather than more powerful.
enum class KeyRole { Full, AppendOnly };

struct KeyFileInfo {
  std::string id;
  std::string kind;  // "passphrase" or "keyfile"
  std::string created, host, user;
  KeyRole role = KeyRole::Full;
};

struct UnlockedKey {
  Key master;
  std::string id;
  KeyRole role = KeyRole::Full;
  // The key file's Ed25519 signing key (crypto/sign.h); empty for key files made before issue 18.
  Bytes signing_seed;
};

// A key file ready to store: deriving the key-encryption key (slow, may fail on bad parameters)
// happens before anything is written.
struct KeyFileText {
  std::string id, text;
};
KeyFileText make_key_file(const Key& master, const Credentials& creds, const Argon2Params& kdf,
                          KeyRole role = KeyRole::Full);
void store_key_file(Backend& backend, const KeyFileText& key);

// Writes a new key file wrapping `master`; returns its id.
std::string add_key_file(Backend& backend, const Key& master, const Credentials& creds, const Argon2Params& kdf,
                         KeyRole role = KeyRole::Full);
// Finds the key file the credentials open; returns the master key, that key file's id and role.
UnlockedKey unlock_master_key(const Backend& backend, const Credentials& creds);
// How many key-encryption keys unlock_master_key has derived in this process (Argon2id for a
// passphrase: the costly part of opening): a long-lived handle derives once (tests count it).
uint64_t key_derivations();
std::vector<KeyFileInfo> list_key_files(const Backend& backend);
// The signing public key of every key file that has one (id -> 32 bytes), to verify recovery
// points (see docs/security.md, "Future-dated recovery points").
std::map<std::string, Bytes> signing_public_keys(const Backend& backend);
// Key files that cannot be used whatever the password: (id, why).
std::vector<std::pair<std::string, std::string>> damaged_key_files(const Backend& backend);
void remove_key_file(Backend& backend, const std::string& id);
// Expands a unique prefix of a key file id; throws Error(NotFound/Usage).
std::string resolve_key_id(const Backend& backend, const std::string& prefix);
// Creates a new random key file at `path` (mode 0600); refuses to overwrite.
void write_new_key_file(const std::string& path);

}  // namespace arca
