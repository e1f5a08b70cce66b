// Replicas (docs/replication.md): a repository made by `arca init --like` shares its primary's
// master key, id key, chunker and data keys, so blobs, WAL objects, snapshots and drill records
// copied from the primary stay valid byte for byte; only packs and index files are its own.
// Repository::init_like and Repository::open_replica make and open one; this adds what the
// copy needs of the keys and the replica's ledger.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "repo/repository.h"

namespace arca {

// Copies the primary's keyring entries the replica lacks (as they are: they are sealed with the
// shared master key), then reads the replica's keyring again and requires every data key
// version of the primary to be there with the same key: throws Error(Conflict) naming a version
// that differs (nothing sealed with it could be read on the replica). Returns how many entries
// it copied.
uint64_t copy_keyring(const Repository& primary, Repository& replica);

// Whether the replica has a key file of its own (one the primary does not have: copies bring the
// primary's signing keys along). Without one only the primary's passwords open it: its `init
// --like` was interrupted before the last step.
bool replica_has_own_key(const Backend& primary, const Backend& replica);

// The replica's ledger (`copied/<snapshot id>`, docs/repository-format.md §16): a point once
// copied is not copied again after the replica's own retention removed it.
void save_copied_record(Repository& replica, const Snapshot& point);

}  // namespace arca
