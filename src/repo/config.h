// Repository-wide settings and secrets, stored sealed with the master key as object "config".
#pragma once
#include <cstdint>
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

  Bytes encode() const;
  static RepoConfig decode(ByteView json);  // throws Error(Corrupt / FormatVersion)
};

}  // namespace arca
