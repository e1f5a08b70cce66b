// The keys a repository session works with, all reachable from the master key:
//  - version 0 is the master key itself (config and keyring entries are sealed with it);
//  - versions 1.. are data keys (everything else); new writes use the newest version, and
//    `key rotate` adds a version without touching stored data;
//  - the id key makes content ids (HMAC-SHA-256) and the chunker seed makes boundaries secret.
#pragma once
#include <cstdint>
#include <map>

#include "crypto/key.h"

namespace arca {

struct Keyring {
  Key master;
  Key id_key;
  Key chunker_seed;
  std::map<uint32_t, Key> data_keys;

  uint32_t current_version() const { return data_keys.empty() ? 0 : data_keys.rbegin()->first; }
  const Key* find(uint32_t version) const;  // nullptr for an unknown version
  const Key& key(uint32_t version) const;   // throws Error(Corrupt) for an unknown version
};

}  // namespace arca
