// Snapshots (recovery points): sealed JSON objects under snapshots/<id>.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/bytes.h"

namespace arca {

struct SnapshotStats {
  uint64_t files = 0, dirs = 0, symlinks = 0;
  uint64_t files_new = 0, files_changed = 0, files_unchanged = 0;
  uint64_t bytes = 0;       // logical size of all files in the snapshot
  uint64_t bytes_read = 0;  // bytes actually read from the source
  uint64_t blobs_added = 0;
  uint64_t bytes_added = 0;   // plaintext bytes of new blobs
  uint64_t stored_added = 0;  // bytes written to the repository (packs + index)
  uint64_t skipped = 0;       // special files not stored (older versions skipped every one)
  double duration_s = 0;
  uint64_t special = 0;  // FIFOs, sockets and device nodes stored
};

struct SnapshotWarning {
  std::string path, message;
};

// One typed metadata value: {"type": …, "value": …}.
inline nlohmann::json typed_meta(const char* type, nlohmann::json value) {
  return nlohmann::json{{"type", type}, {"value", std::move(value)}};
}

struct Snapshot {
  Id id;             // random; the object name
  std::string time;  // RFC 3339, UTC
  std::string host, user;
  std::string source_kind = "files";  // files, postgres, redis, kafka, …
  std::string source_name;
  std::vector<std::string> paths;
  std::vector<std::string> tags;
  std::optional<Id> parent;
  Id tree;
  SnapshotStats stats;
  std::vector<SnapshotWarning> warnings;
  bool partial = false;
  // Typed, source-specific facts: {"name": {"type": "lsn"|"offset"|"string"|…, "value": …}}.
  nlohmann::json metadata = nlohmann::json::object();
  std::string program_version;
  // The key file ("keys/<id>") whose holder wrote the point; "" in points made before versions
  // recorded it. Stated by the writer: see docs/security.md, "Future-dated recovery points".
  std::string key_id;
  // Ed25519 signature (base64) by that key file's signing key over `signed_text`; "" if unsigned.
  // Neither is part of to_json(): Repository::save_snapshot signs, repo/point_signature.h verifies.
  std::string signature;
  std::string signed_text;  // the stored JSON without "signature", canonical; "" if its "id" is not the name's

  nlohmann::json to_json() const;
  // The text a signature covers: `j` without "signature", compact, keys sorted, invalid UTF-8
  // replaced (as stored).
  static std::string canonical_text(nlohmann::json j);
  static Snapshot from_json(const nlohmann::json& j, const Id& id);
};

}  // namespace arca
