// The keys a repository session works with, all reachable from the master key:
//  - version 0 is the master key itself (config and keyring entries are sealed with it);
//  - versions 1.. are data keys (everything else); new writes use the newest version, and
//    `key rotate` adds a version without touching stored data;
//  - the id key makes content ids (HMAC-SHA-256) and the chunker seed makes boundaries secret.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "crypto/key.h"
#include "util/error.h"

namespace arca {

struct Keyring {
  Key master;
  Key id_key;
  Key chunker_seed;
  std::map<uint32_t, Key> data_keys;
  // Keyring entries that exist but could not be read (version -> why): their data is not
  // damaged, only unreadable until a good copy of the entry is put back.
  std::map<uint32_t, std::string> damaged_entries;

  uint32_t current_version() const { return data_keys.empty() ? 0 : data_keys.rbegin()->first; }
  const Key* find(uint32_t version) const;  // nullptr for an unknown version
  const Key& key(uint32_t version) const;   // throws KeyVersionUnavailable for an unknown version
  // "keyring/00000002 is damaged (…)" or "keyring/00000002 is missing".
  std::string unavailable_reason(uint32_t version) const;
  // Versions known to be unavailable (damaged entries, gaps below the newest), as one sentence
  // saying to restore them first; empty when there are none.
  std::string unavailable_note() const;
};

// "keyring/00000002": the object holding data key `version`.
std::string keyring_entry_name(uint32_t version);

// An object sealed with a data key version whose keyring entry is missing or damaged. Not damage
// of the object: it reads again once the entry is restored, so nothing may delete it as damaged.
// Kind Corrupt (exit 12), so code that does not know about it still stops.
class KeyVersionUnavailable : public Error {
 public:
  KeyVersionUnavailable(uint32_t version, const std::string& what)
      : Error(ErrorKind::Corrupt, what), version_(version) {}
  uint32_t version() const { return version_; }

 private:
  uint32_t version_;
};

}  // namespace arca
