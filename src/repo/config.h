// Repository-wide settings and secrets, stored sealed with the master key as object "config".
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "chunk/fastcdc.h"
#include "crypto/kdf.h"
#include "crypto/key.h"
#include "util/bytes.h"

namespace arca {

constexpr int kRepoFormat = 1;

struct RepoConfig {
  int format = kRepoFormat;
  Id repo_id;
  std::string created;
  ChunkerParams chunker;
  int zstd_level = 3;
  uint32_t data_pack_size = 16 * 1024 * 1024;
  uint32_t meta_pack_size = 4 * 1024 * 1024;
  Key id_key;
  Key chunker_seed;
  // A replica (`arca init --like`): the id of the repository it receives recovery points from.
  // It shares that repository's master key, id key, chunker seed and data keys (the blobs copied
  // to it stay sealed as they are); `arca key rotate` is refused on it.
  std::optional<Id> replica_of;

  Bytes encode() const;
  static RepoConfig decode(ByteView json);  // throws Error(Corrupt / FormatVersion)
};

}  // namespace arca
