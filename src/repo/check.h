// Repository verification. Structure: every index, snapshot and tree decrypts and parses, every
// blob a snapshot needs is indexed, every indexed pack exists with a plausible size. With
// read_data, packs are read in full: pack hash, header, and every blob authenticated and
// compared with its keyed id. Damaged or missing blobs are mapped back to the files they hold.
// Objects of the families outside packs (WAL archive, writer registrations, second factor) are
// counted, and with read_data each is authenticated; prune marks and locks are read and parsed. Packs no intact
// index lists are read from their headers: needed ones are errors, and only packs whose blobs
// are all stored in indexed packs are called harmless. Key files and keyring versions too.
#pragma once
#include <string>
#include <vector>

#include "repo/repository.h"
#include "util/job_context.h"
#include "util/progress.h"

namespace arca {

struct CheckOptions {
  bool read_data = false;
  double subset = 1.0;  // a random fraction of packs to read when read_data (0 < subset <= 1)
  // restic's n/t: read group `group` (1..groups) of `groups` fixed groups of packs, so running
  // 1/7 … 7/7 (cron: $(date +%u)/7) reads every pack exactly once. 0: no groups.
  uint32_t group = 0, groups = 0;
  unsigned threads = 0;
  const CancelToken* cancel = nullptr;  // cancelled: stops reading, throws Error(Cancelled)
};

struct CheckProblem {
  std::string object, message;
};

struct AffectedFile {
  std::string snapshot, path;
};

// The objects of one family outside packs that check lists (repo/object_families.h).
struct FamilyCount {
  std::string family;                              // ObjectFamily::id
  uint64_t objects = 0, read = 0, bytes_read = 0;  // read: authenticated (with read_data)
};

struct CheckResult {
  uint64_t snapshots = 0, trees = 0, data_blobs = 0, packs = 0, packs_read = 0, bytes_read = 0;
  uint64_t wal_objects = 0, wal_read = 0;  // PostgreSQL WAL archive objects (wal/)
  std::vector<FamilyCount> families;       // every family check authenticates, WAL included
  std::vector<CheckProblem> errors;
  std::vector<CheckProblem> notes;     // findings that need no action (e.g. packs left by an interrupted backup)
  std::vector<CheckProblem> warnings;  // not damage, but to look into (future-dated recovery points)
  std::vector<AffectedFile> affected;
  bool ok() const { return errors.empty(); }
};

CheckResult check_repository(Repository& repo, const CheckOptions& opts, ProgressCounters& progress);

}  // namespace arca
