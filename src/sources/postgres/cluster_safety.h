// What `arca pg restore` accepts from a recovery point, and how it writes inside the restored
// cluster. A recovery point is untrusted input: a key holder (an append-only key lives on every
// backed-up host) or a hostile PostgreSQL server shapes it, and restores often run as root. So
// a point holding anything PostgreSQL never puts in a base backup is refused before anything is
// written, and every write Arca itself makes inside the cluster goes below an open directory
// without following symlinks (see docs/security.md, "PostgreSQL restores").
#pragma once
#include <sys/types.h>

#include <optional>
#include <string>

#include "repo/repository.h"
#include "util/fd.h"

namespace arca {

// An all-digit OID, as PostgreSQL names tablespaces in pg_tblspc/ and in base backups.
bool is_tablespace_oid(const std::string& s);
// "pg_tblspc/<oid>": the only symlinks PostgreSQL itself makes in a data directory.
bool is_tablespace_link(const std::string& rel_path);
// "PG_16_202307071": the only entries PostgreSQL keeps at the top of a tablespace location.
bool is_tablespace_version_dir(const std::string& name);

// Why a base backup's tar entry is refused ("" if it is not): a symlink anywhere but
// pg_tblspc/<oid> of the data directory, or a tablespace entry outside its version directory.
// `tablespace`: the entry is in a tablespace's archive; `path` is relative to the archive.
std::string refused_backup_entry(bool tablespace, const std::string& path, bool symlink);

// Throws Error(Corrupt), naming the path, if the point's data directory or tablespaces hold what
// a PostgreSQL base backup never does: a symlink other than data/pg_tblspc/<oid> (and those only
// for OIDs in `known_oids`), a FIFO, socket or device node, a setuid or setgid file, extended
// attributes (a file capability would survive as root), a tablespace
// entry that is not named by an OID or a top-level tablespace entry that is not a version
// directory. Walks the trees iteratively (a deep planted tree cannot exhaust the stack).
void check_cluster_tree(Repository& repo, const Snapshot& snap, const Id& data_tree,
                        const std::optional<Id>& tablespaces_tree, const std::vector<std::string>& known_oids);

struct ClusterOwner {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name;
};
// Who owns a cluster restored as root. Never the uid/gid the point records (a point could then
// choose which local account runs the server it configures): `explicit_user` (--owner) if given,
// else the owner of `dir` if it exists and is not root (the operator prepared it), else the local
// user "postgres". Throws Error(Usage) when none applies, naming `recorded_user` as a hint.
ClusterOwner choose_cluster_owner(const std::string& explicit_user, const std::string& dir,
                                  const std::string& recorded_user);

// `p` (absolute) with its longest existing prefix resolved by realpath and the rest appended
// lexically: what the path will name once its missing directories are created.
std::string resolve_existing_prefix(const std::string& p);
// "/", "/etc", "/home", "/usr/lib", …: never a restore target, whatever the flags.
bool is_system_directory(const std::string& p);

enum class RestoreTargetKind { DataDirectory, TablespaceLocation };
// Checked before anything is written (see docs/security.md, "PostgreSQL restores"): `dir`
// (absolute) is not "/" or a system directory (also once resolved) and neither holds nor lies
// in the local repository `repo_dir` ("" for a remote one). A non-empty `dir` needs `delta`,
// and even then a data directory must hold PG_VERSION (as pgBackRest requires) and a tablespace
// location nothing but PG_<major>_<catalog> directories, since a delta restore removes what the
// backup lacks. Error(Usage) naming the directory (or the offending entry) otherwise.
void check_restore_target(const std::string& dir, bool delta, RestoreTargetKind kind, const std::string& what,
                          const std::string& repo_dir);

// The modes PostgreSQL creates (pg_dir_create_mode / pg_file_create_mode): 0700 and 0600, or
// 0750 and 0640 when the cluster allows group access (data_directory_mode).
struct ClusterModes {
  mode_t dir = 0700, file = 0600;
};
// Group access if the point's PG_VERSION is group-readable, as initdb -g makes it.
ClusterModes cluster_modes(mode_t pg_version_mode);

// A directory to work below, opened once. Throws Error(Io) naming it.
UniqueFd open_directory(const std::string& dir);
// Sets `dirfd` and everything below it to `modes` (a point's 0777 directory or 0666 relation file
// would let any local user alter the database) and, with `owner`, to that owner. Symlinks are
// changed themselves (AT_SYMLINK_NOFOLLOW), never followed; every directory is opened below
// `dirfd` without following a symlink. `shown` names the directory in errors.
void settle_beneath(int dirfd, const std::string& shown, const ClusterModes& modes, const ClusterOwner* owner);
// The content of the regular file `name` in `dirfd` ("" if there is none), never through a symlink.
std::string read_file_beneath(int dirfd, const std::string& name, const std::string& shown);
// Replaces (or creates) the regular file `name` in `dirfd` with `content`, mode 0600, owned by
// `owner` when given; refuses (Error Io) to write through a symlink or into anything but a
// regular file.
void write_file_beneath(int dirfd, const std::string& name, const std::string& content, const std::string& shown,
                        const ClusterOwner* owner);

}  // namespace arca
