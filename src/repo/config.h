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

  Bytes encode() const;
  static RepoConfig decode(ByteView json);  // throws Error(Corrupt / FormatVersion)
};

std::string now_rfc3339();
// Seconds since the epoch for "YYYY-MM-DD[T ]HH:MM:SS[.frac]" followed by Z, UTC or ±HH[:MM];
// nullopt for anything else (a time without a zone is ambiguous).
std::optional<double> parse_time(const std::string& s);
// The same time as "YYYY-MM-DDTHH:MM:SS[.frac]Z" (the fraction kept as written), so that text
// shown, sorted and compared is UTC: "2026-12-07T23:00:00+22:00" -> "2026-12-07T01:00:00Z".
// `s` unchanged when parse_time rejects it or it lies outside years 1..9999.
std::string utc_time(const std::string& s);
std::string local_hostname();
std::string local_username();

}  // namespace arca
