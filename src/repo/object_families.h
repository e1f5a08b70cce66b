// The object families of a repository (docs/repository-format.md §1), each registered with its
// list prefix, its name forms, who may delete its objects and when (retention), and how `check`
// verifies them. Check and prune iterate over this registry instead of naming families, and so
// can the replication and storage tiers: a new family is added here (with its names in
// repo/object_names.h) and is then checked, swept and copied like the others.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "repo/snapshot.h"

namespace arca {

class Repository;

// Who may delete a family's objects, and when.
enum class Retention {
  Never,       // config, keyring entries, the second factor: never deleted
  KeyCommand,  // key files: only 'arca key remove'
  Forget,      // snapshots: only forget (and repair snapshots), never while locked
  Prune,       // index files, packs, prune marks: prune_repository, after the grace period
  PruneRun,    // prune/running: the prune that holds it (or one taking over from a dead one)
  WriterEnds,  // writers/: the writer when it ends; prune removes stale ones
  Sweep,       // removed by the family's sweep in every prune (see ObjectFamily::sweep)
};

// How `check` verifies a family's objects.
enum class CheckRule {
  Structure,     // the checker's own passes (keys, keyring, index, snapshots, packs): parsed and cross-checked
  Load,          // every object read and parsed on every check (ObjectFamily::load)
  Authenticate,  // listed and counted; with --read-data every object is read and authenticated
};

// How `arca copy` brings a family's objects to a replica (docs/replication.md).
enum class Replication {
  Own,       // the replica's own objects (config, index files, prune marks, locks, …): never copied
  Keyring,   // copied as they are, before anything sealed with them (copy_keyring)
  Point,     // snapshots: copied as they are, after every blob they need is stored and indexed
  Blobs,     // packs: the blobs copied points need are copied (sealed as they are) into the replica's own packs
  Signers,   // key files: those that signed copied points, so the signatures verify on the replica
  Raw,       // copied as they are when missing (ObjectFamily::wanted may narrow that)
};

struct FamilySweepResult {
  uint64_t objects = 0, bytes = 0;  // removed (or, dry run, to remove)
  std::vector<std::string> notes;
};

struct ObjectFamily {
  std::string_view id;      // "wal", "locks", …: stable, for messages and results
  std::string_view prefix;  // what to list: every object of the family starts with it
  // The name forms as docs/repository-format.md §1 writes them ("locks/<64 hex>/<64 hex>").
  std::vector<std::string_view> forms;
  bool (*matches)(std::string_view name);  // whether `name` is one of the family's (object_names.h)
  Retention retention;
  std::string_view retention_rule;  // in words, for docs and the API
  CheckRule check;
  std::string_view check_rule;
  // CheckRule::Load: reads every object of the family; throws Error naming the damaged one.
  void (*load)(const Repository& repo) = nullptr;
  // Retention::Sweep: removes what no recovery point in `snapshots` needs any more.
  FamilySweepResult (*sweep)(Repository& repo, const std::vector<Snapshot>& snapshots, bool dry_run) = nullptr;
  Replication replication = Replication::Own;
  std::string_view replication_rule = {};
};

// Every family, in the order of §1.
const std::vector<ObjectFamily>& object_families();
// The family `id` names; throws Error(Usage) for an unknown id.
const ObjectFamily& object_family(std::string_view id);
// The family an object name belongs to; nullptr for a name of none (stray files, tmp/).
const ObjectFamily* family_of(std::string_view name);

// Runs the sweep of every family that has one (prune's object sweep, after the packs): per
// family id, what it removed.
std::vector<std::pair<std::string, FamilySweepResult>> sweep_object_families(Repository& repo,
                                                                             const std::vector<Snapshot>& snapshots,
                                                                             bool dry_run);

}  // namespace arca
