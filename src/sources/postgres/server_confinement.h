// What a PostgreSQL server started from a recovery point may run and reach. A point's own
// configuration (postgresql.conf, postgresql.auto.conf) comes from the backed-up server, which
// the operator does not control: its command settings would run programs on the restoring host
// with the server's environment, its library and path settings would load code or write files
// outside the data directory. Arca overrides them (see docs/security.md, "PostgreSQL restores").
#pragma once
#include <functional>
#include <string>
#include <vector>

namespace arca {

// Settings that name a program to run: emptied in every restored cluster.
const std::vector<std::string>& pg_command_settings();

struct NeutralisedSetting {
  std::string name, original;
};

// The command settings the data directory's postgresql.conf and postgresql.auto.conf set to a
// non-empty value (files they include are not read), with the value in effect; read beneath
// `dirfd`, never through a symlink. For the note that tells the operator what was emptied.
std::vector<NeutralisedSetting> pg_command_settings_found(int dirfd, const std::string& dir);

// A preload list with only bare library names (loaded from PostgreSQL's own $libdir): entries
// holding '/' or '$' could load a file from anywhere and are dropped.
std::string pg_bare_libraries(const std::string& list);

struct PgConfinement {
  std::string datadir;          // the restored data directory
  std::string socket_dir;       // Arca's private socket directory
  std::string restore_command;  // Arca's own ("" = no archive recovery)
  bool scratch = false;         // a throwaway server (pg verify): no TCP, no SSL
};

// The `-c name=value` settings (command-line options win over every configuration file) for a
// server Arca starts from a recovery point. `current(name)` is the point's value of a setting
// (for the library lists, which keep their bare names).
std::vector<std::string> pg_confining_settings(const PgConfinement& c,
                                               const std::function<std::string(const std::string&)>& current);

// Writes `settings` (name=value) at the end of Arca's block in the data directory's
// postgresql.auto.conf (a block of its own if there is none), so that a server restarted with
// `pg_ctl -D DIR start` comes back on the port, socket directory and confining settings Arca
// started it with instead of the backed-up server's. data_directory and restore_command are left
// out: a configuration file cannot move the data directory, and the block already holds the
// restore_command that works without Arca's credentials file. Owned by the data directory's owner.
void pg_persist_settings(const std::string& datadir, const std::vector<std::string>& settings);

}  // namespace arca
