#include "sources/postgres/cluster_safety.h"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <vector>

#include "repo/tree_walk.h"
#include "util/beneath.h"
#include "util/error.h"

namespace arca {

bool is_tablespace_oid(const std::string& s) {
  return !s.empty() && s.size() <= 10 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_tablespace_link(const std::string& rel_path) {
  static const std::string kDir = "pg_tblspc/";
  return rel_path.rfind(kDir, 0) == 0 && is_tablespace_oid(rel_path.substr(kDir.size()));
}

bool is_tablespace_version_dir(const std::string& name) {
  // PG_<major>_<catalog version>; the major may carry a dot (PG_9.6_201608131).
  if (name.rfind("PG_", 0) != 0 || name.size() > 64) return false;
  std::string rest = name.substr(3);
  auto us = rest.find('_');
  if (us == std::string::npos || us == 0 || us + 1 == rest.size()) return false;
  auto digits_dots = [](const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
  };
  return digits_dots(rest.substr(0, us)) && is_tablespace_oid(rest.substr(us + 1));
}

std::string refused_backup_entry(bool tablespace, const std::string& path, bool symlink) {
  if (symlink && (tablespace || !is_tablespace_link(path)))
    return "only pg_tblspc/<OID> may be a symlink in a base backup (PostgreSQL skips any other)";
  if (tablespace && !is_tablespace_version_dir(path.substr(0, path.find('/'))))
    return "a tablespace holds only its version directory (PG_<major>_<catalog version>)";
  return "";
}

void check_cluster_tree(Repository& repo, const Snapshot& snap, const Id& data_tree,
                        const std::optional<Id>& tablespaces_tree, const std::vector<std::string>& known_oids) {
  auto refuse = [&](const std::string& path, const std::string& why) {
    throw Error(ErrorKind::Corrupt, "base backup " + snap.id.short_hex() + ": " + path + " " + why +
                                        "; a PostgreSQL base backup never holds that, so the recovery point is not "
                                        "restored (nothing was written). It may have been planted: run 'arca "
                                        "snapshots' and 'arca check', and see docs/security.md");
  };
  struct Pending {
    Id tree;
    std::string path;  // shown path of the directory ("data", "tablespaces/16384", …)
    int kind;          // 0: data directory, 1: tablespaces/, 2: tablespaces/<oid>/, 3: inside a tablespace
  };
  // A planted tree that repeats a subtree at every level has 2^depth paths: refuse it before walking.
  refuse_tree_bomb(repo, data_tree, "base backup " + snap.id.short_hex());
  if (tablespaces_tree) refuse_tree_bomb(repo, *tablespaces_tree, "base backup " + snap.id.short_hex());
  std::vector<std::string> present;  // tablespaces/<oid> directories the point holds
  std::vector<Pending> stack{{data_tree, "data", 0}};
  if (tablespaces_tree) stack.push_back({*tablespaces_tree, "tablespaces", 1});
  while (!stack.empty()) {
    Pending p = std::move(stack.back());
    stack.pop_back();
    Tree t = repo.load_tree(p.tree);
    for (const auto& n : t.nodes) {
      std::string path = p.path + "/" + n.name;
      if (is_special(n.type)) refuse(path, std::string("is a special file (") + node_type_name(n.type) + ")");
      if (n.type == NodeType::File && (n.mode & (S_ISUID | S_ISGID))) refuse(path, "is a setuid or setgid file");
      // PostgreSQL's tar stream carries none; one could be a file capability (security.capability).
      if (!n.xattrs.empty()) refuse(path, "carries extended attributes (" + n.xattrs[0].first + ")");
      if (n.type == NodeType::Symlink) {
        std::string rel = p.kind == 0 ? path.substr(std::strlen("data/")) : path;
        if (p.kind != 0 || !is_tablespace_link(rel))
          refuse(path, "is a symlink (to " + n.link_target + "): PostgreSQL makes symlinks only at pg_tblspc/<oid>");
        std::string oid = rel.substr(std::strlen("pg_tblspc/"));
        if (std::find(known_oids.begin(), known_oids.end(), oid) == known_oids.end())
          refuse(path, "is a symlink (to " + n.link_target + ") for a tablespace the point's metadata does not list");
        continue;
      }
      // Arca puts its own link there; a directory or file in its place would stop the restore
      // half-way (or be removed as root).
      bool listed = std::find(known_oids.begin(), known_oids.end(), n.name) != known_oids.end();
      if (p.kind == 0 && p.path == "data/pg_tblspc" && listed)
        refuse(path, std::string("is a ") + (n.type == NodeType::Dir ? "directory" : node_type_name(n.type)) +
                         ", where PostgreSQL keeps the symlink of tablespace " + n.name + " (Arca makes that link)");
      if (p.kind == 1 && !(n.type == NodeType::Dir && is_tablespace_oid(n.name)))
        refuse(path, "is not a tablespace directory named by its OID");
      if (p.kind == 1) present.push_back(n.name);
      if (p.kind == 2 && !(n.type == NodeType::Dir && is_tablespace_version_dir(n.name)))
        refuse(path, "is not a PostgreSQL version directory (PG_<major>_<catalog version>)");
      if (n.type == NodeType::Dir && n.subtree)
        stack.push_back({*n.subtree, path, p.kind == 0 ? 0 : std::min(p.kind + 1, 3)});
    }
  }
  for (const auto& oid : known_oids)
    if (std::find(present.begin(), present.end(), oid) == present.end())
      refuse("tablespaces/" + oid, "is missing, yet the point's metadata lists tablespace " + oid +
                                       ": a tablespace listed without its files");
}

ClusterOwner choose_cluster_owner(const std::string& explicit_user, const std::string& dir,
                                  const std::string& recorded_user) {
  ClusterOwner o;
  if (!explicit_user.empty()) {
    passwd* pw = getpwnam(explicit_user.c_str());
    if (!pw) throw Error(ErrorKind::Usage, "--owner " + explicit_user + ": no such user on this machine");
    return {pw->pw_uid, pw->pw_gid, pw->pw_name};
  }
  struct stat st;
  if (stat(dir.c_str(), &st) == 0 && st.st_uid != 0) {
    if (passwd* pw = getpwuid(st.st_uid)) return {pw->pw_uid, pw->pw_gid, pw->pw_name};
    return {st.st_uid, st.st_gid, std::to_string(st.st_uid)};
  }
  if (passwd* pw = getpwnam("postgres")) return {pw->pw_uid, pw->pw_gid, pw->pw_name};
  throw Error(
      ErrorKind::Usage,
      "running as root, and this machine has no user 'postgres': say which user will run the restored "
      "server with --owner USER" +
          (recorded_user.empty() ? std::string() : " (the backed-up files belonged to '" + recorded_user + "')") +
          ", or create " + dir + " owned by that user first");
}

UniqueFd open_directory(const std::string& dir) {
  UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) throw_errno("open", dir, errno);
  return fd;
}

std::string resolve_existing_prefix(const std::string& p) {
  std::filesystem::path path = std::filesystem::path(p).lexically_normal(), rest;
  while (true) {
    char buf[PATH_MAX];
    if (realpath(path.c_str(), buf)) {
      std::string out = (std::filesystem::path(buf) / rest).lexically_normal().string();
      while (out.size() > 1 && out.back() == '/') out.pop_back();
      return out;
    }
    if (!path.has_relative_path()) return p;
    rest = rest.empty() ? path.filename() : path.filename() / rest;
    path = path.parent_path();
  }
}

bool is_system_directory(const std::string& p) {
  static const std::set<std::string> kSystem = {"/",
                                                "/bin",
                                                "/boot",
                                                "/dev",
                                                "/etc",
                                                "/home",
                                                "/lib",
                                                "/lib32",
                                                "/lib64",
                                                "/libx32",
                                                "/media",
                                                "/mnt",
                                                "/opt",
                                                "/proc",
                                                "/root",
                                                "/run",
                                                "/sbin",
                                                "/srv",
                                                "/sys",
                                                "/tmp",
                                                "/usr",
                                                "/var",
                                                "/usr/bin",
                                                "/usr/lib",
                                                "/usr/lib64",
                                                "/usr/local",
                                                "/usr/sbin",
                                                "/usr/share",
                                                "/usr/include",
                                                "/usr/src",
                                                "/var/lib",
                                                "/var/log",
                                                "/var/tmp",
                                                "/var/cache",
                                                "/var/spool",
                                                "/var/mail",
                                                "/var/backups",
                                                "/var/opt",
                                                "/var/www",
                                                "/var/run",
                                                "/var/lib/postgresql"};
  std::string s = std::filesystem::path(p).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return kSystem.count(s) > 0;
}

static bool inside_or_same(const std::string& x, const std::string& y) {
  return x == y || y == "/" || x.rfind(y + "/", 0) == 0;
}

void check_restore_target(const std::string& dir, bool delta, RestoreTargetKind kind, const std::string& what,
                          const std::string& repo_dir) {
  std::string real = resolve_existing_prefix(dir);
  if (is_system_directory(dir) || is_system_directory(real))
    throw Error(ErrorKind::Usage, what + " " + dir + (real != dir ? " (" + real + ")" : std::string()) +
                                      " is a system directory: a restore never writes there; choose a directory of "
                                      "its own, e.g. " +
                                      (dir == "/" ? std::string() : dir) + "/pg-restore");
  if (!repo_dir.empty()) {
    std::string repo = resolve_existing_prefix(std::filesystem::absolute(repo_dir).lexically_normal().string());
    if (inside_or_same(repo, real) || inside_or_same(real, repo))
      throw Error(ErrorKind::Usage, what + " " + dir + " and the repository " + repo_dir +
                                        " overlap: a restore never writes into (or deletes) the repository; "
                                        "choose a directory outside it");
  }
  DIR* d = opendir(dir.c_str());
  if (!d) return;  // missing (created by the restore) or not a directory (the restore reports it)
  std::vector<std::string> entries;
  while (dirent* e = readdir(d))
    if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..")) entries.push_back(e->d_name);
  closedir(d);
  if (entries.empty()) return;
  const std::string delta_is =
      "--delta updates a previous restore of this cluster in place: it writes what differs and REMOVES every "
      "file the backup does not hold";
  if (!delta)
    throw Error(
        ErrorKind::Usage,
        what + " " + dir + " is not empty: choose an empty or new directory. (" + delta_is + "; use it only on " +
            (kind == RestoreTargetKind::DataDirectory ? "a PostgreSQL data directory" : "a tablespace location") +
            " restored before.)");
  if (kind == RestoreTargetKind::DataDirectory) {
    struct stat st;
    if (lstat((dir + "/PG_VERSION").c_str(), &st) != 0 || !S_ISREG(st.st_mode))
      throw Error(ErrorKind::Usage, what + " " + dir +
                                        " holds no PG_VERSION, so it is not a PostgreSQL data "
                                        "directory: --delta is refused there (" +
                                        delta_is + "); choose an empty or new directory");
    return;
  }
  std::sort(entries.begin(), entries.end());
  for (const auto& name : entries) {
    struct stat st;
    if (is_tablespace_version_dir(name) && lstat((dir + "/" + name).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
    throw Error(ErrorKind::Usage, what + " " + dir + " holds " + name +
                                      ", which is not a PostgreSQL version directory (PG_<major>_<catalog>): --delta "
                                      "is refused there (" +
                                      delta_is + "); choose an empty or new directory");
  }
}

ClusterModes cluster_modes(mode_t pg_version_mode) {
  if (pg_version_mode & S_IRGRP) return {0750, 0640};
  return {};
}

void settle_beneath(int dirfd, const std::string& shown, const ClusterModes& modes, const ClusterOwner* owner) {
  if (owner && fchown(dirfd, owner->uid, owner->gid) != 0) throw_errno("chown", shown, errno);
  if (fchmod(dirfd, modes.dir) != 0) throw_errno("chmod", shown, errno);
  std::vector<std::string> stack{""};  // directories below dirfd still to walk, relative
  while (!stack.empty()) {
    std::string rel = std::move(stack.back());
    stack.pop_back();
    int fd = rel.empty() ? dup(dirfd) : open_beneath(dirfd, rel, O_RDONLY | O_DIRECTORY);
    if (fd < 0) throw_errno("open", shown + "/" + rel, errno);
    DIR* d = fdopendir(fd);
    if (!d) {
      int err = errno;
      close(fd);
      throw_errno("read", shown + "/" + rel, err);
    }
    while (dirent* e = readdir(d)) {
      if (!std::strcmp(e->d_name, ".") || !std::strcmp(e->d_name, "..")) continue;
      std::string child = rel.empty() ? e->d_name : rel + "/" + e->d_name;
      struct stat st;
      int err = 0;
      if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        err = errno;
      else if (owner && fchownat(fd, e->d_name, owner->uid, owner->gid, AT_SYMLINK_NOFOLLOW) != 0)
        err = errno;
      // fchmodat never follows here: symlinks are skipped, and nothing below is a symlink's target.
      else if (S_ISDIR(st.st_mode) && fchmodat(fd, e->d_name, modes.dir, 0) != 0)
        err = errno;
      else if (S_ISREG(st.st_mode) && fchmodat(fd, e->d_name, modes.file, 0) != 0)
        err = errno;
      if (err) {
        closedir(d);
        throw_errno("chown/chmod", shown + "/" + child, err);
      }
      if (S_ISDIR(st.st_mode)) stack.push_back(child);
    }
    closedir(d);
  }
}

// Opens `name` in `dirfd` for Arca's own settings files: never through a symlink, never a FIFO
// (O_NONBLOCK keeps the open from hanging on one), only a regular file. -1 and ENOENT if absent.
static int open_settings_file(int dirfd, const std::string& name, int flags, const std::string& shown) {
  int fd = open_beneath(dirfd, name, flags | O_NONBLOCK | O_NOFOLLOW, 0600);
  if (fd < 0) {
    if (errno == ENOENT) return -1;
    if (errno == ELOOP || errno == EXDEV || errno == ENXIO)
      throw Error(ErrorKind::Corrupt, shown +
                                          " is a symlink or a special file, which PostgreSQL never makes there: "
                                          "Arca does not write through it (nothing outside the data directory "
                                          "was touched); the recovery point may have been planted, see "
                                          "docs/security.md");
    throw_errno("open", shown, errno);
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    throw Error(ErrorKind::Corrupt,
                shown + " is not a regular file: Arca does not write into it (see docs/security.md)");
  }
  return fd;
}

std::string read_file_beneath(int dirfd, const std::string& name, const std::string& shown) {
  UniqueFd fd(open_settings_file(dirfd, name, O_RDONLY, shown));
  if (!fd) return "";
  struct stat st;
  // A settings file is a few kilobytes; a huge one is not read into memory.
  constexpr off_t kMax = 64 << 20;
  if (fstat(fd.get(), &st) == 0 && st.st_size > kMax)
    throw Error(ErrorKind::Corrupt, shown + " is " + std::to_string(st.st_size) +
                                        " bytes; a PostgreSQL settings file is far smaller (at most 64 MiB accepted)");
  std::string out;
  char buf[65536];
  while (true) {
    ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("read", shown, errno);
    if (n == 0) break;
    out.append(buf, size_t(n));
    if (off_t(out.size()) > kMax) throw Error(ErrorKind::Corrupt, shown + " is larger than 64 MiB");
  }
  return out;
}

void write_file_beneath(int dirfd, const std::string& name, const std::string& content, const std::string& shown,
                        const ClusterOwner* owner) {
  UniqueFd fd(open_settings_file(dirfd, name, O_WRONLY | O_CREAT, shown));
  if (!fd) throw_errno("create", shown, ENOENT);
  if (ftruncate(fd.get(), 0) != 0) throw_errno("truncate", shown, errno);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("write", shown, errno);
    done += size_t(n);
  }
  if (owner && fchown(fd.get(), owner->uid, owner->gid) != 0) throw_errno("chown", shown, errno);
  if (fsync(fd.get()) != 0) throw_errno("sync", shown, errno);
}

}  // namespace arca
