#include <dirent.h>
#include <fcntl.h>
#include <linux/stat.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "restore/file_restore.h"
#include "restore/path_select.h"
#include "restore/sparse_copy.h"
#include "util/beneath.h"
#include "util/error.h"
#include "util/fd.h"

// The target side of a restore: operations on the target's filesystem (directories, temporary
// files and their copies, renames into place, hard links, removals).
namespace arca::restore_detail {

// A read-only or forbidden target fails once, clearly, instead of once per file.
void check_target_writable(int root, const std::string& target) {
  struct statvfs vfs;
  if (fstatvfs(root, &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
    throw Error(ErrorKind::Io,
                "cannot restore into " + target +
                    ": its filesystem is mounted read-only; remount it read-write or choose another --target");
  if (faccessat(root, ".", W_OK | X_OK, AT_EACCESS) != 0 && errno == EACCES)
    throw Error(ErrorKind::Io,
                "cannot restore into " + target +
                    ": permission denied; restore as a user who may write there, or choose another --target");
}

std::pair<std::string, std::string> FileRestore::split(const std::string& rel) {
  size_t slash = rel.rfind('/');
  if (slash == std::string::npos) return {"", rel};
  return {rel.substr(0, slash), rel.substr(slash + 1)};
}

void FileRestore::replace_non_dir(int dirfd, const std::string& name, const std::string& rel) {
  struct stat st;
  if (fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return;
  if (S_ISDIR(st.st_mode))
    throw Error(ErrorKind::Usage, "cannot restore " + rel + ": a directory of that name exists in the target");
  if (unlinkat(dirfd, name.c_str(), 0) != 0) throw_errno("remove existing", rel, errno);
}

static const char* kind_name(mode_t m) {
  if (S_ISREG(m)) return "file";
  if (S_ISDIR(m)) return "directory";
  if (S_ISLNK(m)) return "symlink";
  if (S_ISFIFO(m)) return "fifo";
  if (S_ISSOCK(m)) return "socket";
  if (S_ISCHR(m)) return "char device";
  if (S_ISBLK(m)) return "block device";
  return "entry";
}

static bool same_kind(mode_t m, NodeType t) {
  switch (t) {
    case NodeType::Dir:
      return S_ISDIR(m);
    case NodeType::Symlink:
      return S_ISLNK(m);
    case NodeType::File:
      return S_ISREG(m);
    default:
      return !S_ISREG(m) && !S_ISDIR(m) && !S_ISLNK(m);  // a special file is recreated anyway
  }
}

// An entry of another kind (a file where the snapshot has a directory or a FIFO, ...) is replaced:
// counted as replaced and, in a dry run, listed, like every change a restore makes. (A directory
// where the snapshot has something else is refused instead: it may hold anything.)
void FileRestore::note_other_kind(int dirfd, const std::string& name, const std::string& rel, NodeType type) {
  struct stat st;
  if (dirfd < 0 || fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return;
  if (same_kind(st.st_mode, type)) return;
  if (S_ISDIR(st.st_mode))
    throw Error(ErrorKind::Usage, "cannot restore " + rel + ": a directory of that name exists in the target");
  if (!noted_other_.insert(rel).second) return;
  result_.files_replaced++;
  std::lock_guard lk(mu_);
  result_.replaced_paths.push_back(rel + " (" + kind_name(st.st_mode) + ", by a " + node_type_name(type) + ")");
}

// Removes `name` below `dirfd`, recursing into directories without following symlinks. `dry`:
// only walks, refusing what the real removal would refuse (a mount point), so a dry run says
// the same.
static void remove_tree_at(int dirfd, const std::string& name, const std::string& rel, bool dry) {
  struct stat st, parent;
  if (fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return;
  struct statx sx;
  bool mount_root = statx(dirfd, name.c_str(), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) == 0 &&
                    (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
  if (mount_root || (fstat(dirfd, &parent) == 0 && st.st_dev != parent.st_dev))
    throw Error(ErrorKind::Usage, rel + " is a mount point; --delete does not remove other filesystems");
  if (S_ISDIR(st.st_mode)) {
    int fd = openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) throw_errno("open", rel, errno);
    std::unique_ptr<DIR, int (*)(DIR*)> d(fdopendir(fd), closedir);
    if (!d) {
      close(fd);
      throw_errno("list", rel, errno);
    }
    std::vector<std::string> names;
    while (dirent* e = readdir(d.get()))
      if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names.push_back(e->d_name);
    for (const auto& n : names) remove_tree_at(::dirfd(d.get()), n, rel + "/" + n, dry);
    if (!dry && unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0) throw_errno("remove", rel, errno);
  } else if (!dry && unlinkat(dirfd, name.c_str(), 0) != 0) {
    throw_errno("remove", rel, errno);
  }
}

// Temporary files a killed restore left (".arca-restore.<pid>.<n>" of a process that no longer
// runs) are removed from the directories this restore writes into, and reported.
void FileRestore::remove_stale_tmp(int dirfd, const std::string& rel) {
  int fd = dup(dirfd);
  if (fd < 0) return;
  std::unique_ptr<DIR, int (*)(DIR*)> d(fdopendir(fd), closedir);
  if (!d) {
    close(fd);
    return;
  }
  static const std::string kPrefix = ".arca-restore.";
  std::vector<std::string> stale;
  while (dirent* e = readdir(d.get())) {
    std::string n = e->d_name;
    if (n.rfind(kPrefix, 0) != 0) continue;
    long pid = std::strtol(n.c_str() + kPrefix.size(), nullptr, 10);
    if (pid == getpid() || (pid > 0 && (kill(pid_t(pid), 0) == 0 || errno == EPERM))) continue;  // still running
    stale.push_back(n);
  }
  for (const auto& n : stale) {
    struct stat st;
    if (fstatat(dirfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
    std::string path = rel.empty() ? n : rel + "/" + n;
    if (unlinkat(dirfd, n.c_str(), 0) == 0)
      result_.stale_tmp_removed.push_back(path);
    else
      problem(result_.warnings, path, std::string("cannot remove a leftover temporary file: ") + std::strerror(errno));
  }
}

void FileRestore::delete_extra(int dirfd, const Tree& tree, const std::string& rel) {
  int fd = dup(dirfd);
  if (fd < 0) throw_errno("dup", rel, errno);
  std::unique_ptr<DIR, int (*)(DIR*)> d(fdopendir(fd), closedir);
  if (!d) {
    close(fd);
    throw_errno("list", rel, errno);
  }
  rewinddir(d.get());
  std::vector<std::string> extra;
  while (dirent* e = readdir(d.get())) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    auto it = std::lower_bound(tree.nodes.begin(), tree.nodes.end(), n,
                               [](const Node& x, const std::string& s) { return x.name < s; });
    if (it != tree.nodes.end() && it->name == n) continue;
    bool protected_by_exclude = false;  // like rsync: what --exclude names is never deleted
    for (size_t i = 0; i < opts_.excludes.size(); i++)
      if (path_matches(opts_.excludes[i], rel + "/" + n)) protected_by_exclude = exclude_used_[i] = true;
    if (!protected_by_exclude) extra.push_back(n);
  }
  for (const auto& n : extra) {
    std::string path = rel + "/" + n;
    try {
      remove_tree_at(dirfd, n, path, opts_.dry_run);
      result_.deleted_paths.push_back(path);
    } catch (const Error& e) {
      problem(result_.errors, path, std::string("--delete: ") + e.what());  // the target is not identical
    }
  }
}

int FileRestore::open_dir(const std::string& rel) {
  if (rel.empty()) return root_.get();
  auto it = dir_fds_.find(rel);
  if (it != dir_fds_.end()) return it->second.get();
  auto [parent, name] = split(rel);
  int pfd = open_dir(parent);
  note_other_kind(pfd, name, rel, NodeType::Dir);
  bool existed = true;
  if (!opts_.dry_run) {
    existed = mkdirat(pfd, name.c_str(), 0700) != 0;
    if (existed && errno != EEXIST) throw_errno("create directory", rel, errno);
  }
  UniqueFd fd(openat(pfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd && !opts_.dry_run && (errno == ENOTDIR || errno == ELOOP)) {
    // A file or symlink stands where the snapshot has a directory: replace it, never follow it.
    if (unlinkat(pfd, name.c_str(), 0) != 0) throw_errno("remove existing", rel, errno);
    if (mkdirat(pfd, name.c_str(), 0700) != 0) throw_errno("create directory", rel, errno);
    fd = UniqueFd(openat(pfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  }
  if (!fd) {
    if (opts_.dry_run) return -1;
    throw_errno("open directory", rel, errno);
  }
  struct stat st;
  if (!opts_.dry_run && fstat(fd.get(), &st) == 0 && st.st_uid == geteuid() && (st.st_mode & 0700) != 0700)
    fchmod(fd.get(), (st.st_mode & 07777) | 0700);  // a read-only copy from an earlier restore
  if (existed && !opts_.dry_run) remove_stale_tmp(fd.get(), rel);
  int raw = fd.get();
  dir_fds_.emplace(rel, std::move(fd));
  return raw;
}

// A temporary file for `f` in its directory `dirfd`, named in f.tmp and f.write_rel.
UniqueFd FileRestore::create_tmp(int dirfd, PlannedFile& f) {
  UniqueFd fd;
  do {
    f.tmp = ".arca-restore." + std::to_string(getpid()) + "." + std::to_string(tmp_seq_++);
    fd = UniqueFd(openat(dirfd, f.tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  } while (!fd && errno == EEXIST);
  if (!fd) {
    int err = errno;
    f.tmp.clear();
    throw_errno("create a temporary file for", f.rel, err);
  }
  auto parent = split(f.rel).first;
  f.write_rel = parent.empty() ? f.tmp : parent + "/" + f.tmp;
  return fd;
}

// An existing file is never written in place: its new version is a copy (a clone where the
// filesystem shares blocks) under a temporary name, into which the differing chunks are
// written, renamed over it when complete. A stop, a full disk or damaged data in the
// repository leaves the existing file as it was.
void FileRestore::make_copy(PlannedFile& f) {
  auto [parent, name] = split(f.rel);
  UniqueFd pfd(parent.empty() ? dup(root_.get()) : open_beneath(root_.get(), parent, O_RDONLY | O_DIRECTORY));
  if (!pfd) throw_errno("open the directory of", f.rel, errno);
  UniqueFd src(openat(pfd.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!src) throw_errno("open", f.rel, errno);
  UniqueFd dst = create_tmp(pfd.get(), f);
  int err = copy_file_sparse(src.get(), dst.get());
  uint64_t size = f.locs.empty() ? 0 : f.offsets.back() + f.locs.back().raw_length;
  if (!err && ftruncate(dst.get(), off_t(size)) != 0) err = errno;
  if (err) {
    unlinkat(pfd.get(), f.tmp.c_str(), 0);
    f.tmp.clear();
    throw_errno("copy (to update it)", f.rel, err);
  }
}

// The copy of an existing file, made on first use, opened for writing.
UniqueFd FileRestore::open_copy(PlannedFile& f) {
  std::lock_guard lk(f.copy_mu);
  if (f.tmp.empty()) make_copy(f);
  UniqueFd fd(open_beneath(root_.get(), f.write_rel, O_RDWR));
  if (!fd) throw_errno("open", f.write_rel, errno);
  return fd;
}

// Called once all of a file's chunks are written (by the writer that wrote the last).
void FileRestore::finish_file(PlannedFile& f) {
  if (f.failed || f.unfinished) return;
  std::lock_guard lk(f.copy_mu);
  if (!opts_.dry_run && !f.tmp.empty()) {
    auto [parent, name] = split(f.rel);
    UniqueFd pfd(parent.empty() ? dup(root_.get()) : open_beneath(root_.get(), parent, O_RDONLY | O_DIRECTORY));
    if (!pfd || renameat(pfd.get(), f.tmp.c_str(), pfd.get(), name.c_str()) != 0) {
      fail(f, std::string("cannot move the restored file into place: ") + std::strerror(errno));
      return;
    }
    f.tmp.clear();
  }
  f.done = true;
}

// Further names of hard-linked files, once the first name is complete.
void FileRestore::make_links() {
  for (const auto& l : links_) {
    if (!l.first->done) {
      if (l.first->failed)
        problem(result_.errors, l.rel, "hard link to " + l.first->rel + " not made: that file could not be restored",
                l.first->damaged ? RestoreProblemSource::Repository : RestoreProblemSource::Target);
      continue;  // (or the restore stopped first)
    }
    auto [parent, name] = split(l.rel);
    auto [first_parent, first_name] = split(l.first->rel);
    try {
      UniqueFd dfd(parent.empty() ? dup(root_.get()) : open_beneath(root_.get(), parent, O_RDONLY | O_DIRECTORY));
      UniqueFd src(first_parent.empty() ? dup(root_.get())
                                        : open_beneath(root_.get(), first_parent, O_PATH | O_DIRECTORY));
      if (!dfd || !src) throw_errno("open the directory of", l.rel, errno);
      replace_non_dir(dfd.get(), name, l.rel);
      if (linkat(src.get(), first_name.c_str(), dfd.get(), name.c_str(), 0) != 0)
        throw_errno("hard link", l.rel, errno);
      result_.hardlinks++;
    } catch (const Error& e) {
      problem(result_.errors, l.rel, e.what());
    }
  }
}

// After the writers: temporary files of what was not completed are removed; the counts are made.
void FileRestore::settle_files() {
  uint64_t bytes = 0, files = 0;
  for (const auto& fp : files_) {
    PlannedFile& f = *fp;
    if (f.done) {
      files++;
      bytes += f.node.size;
      if (f.existed && f.written == 0 && !f.resized)
        result_.files_unchanged++;
      else if (f.existed || f.replaces)
        result_.files_replaced++;
      else
        result_.files_new++;
      continue;
    }
    if (f.damaged) result_.damaged.push_back(f.rel);
    if (!f.tmp.empty()) {
      written_ -= f.written;  // what was written to it is gone: "wrote" counts what stays
      auto [parent, name] = split(f.rel);
      UniqueFd pfd(parent.empty() ? dup(root_.get()) : open_beneath(root_.get(), parent, O_RDONLY | O_DIRECTORY));
      if (pfd && unlinkat(pfd.get(), f.tmp.c_str(), 0) != 0 && errno != ENOENT)
        problem(result_.warnings, f.rel,
                "cannot remove the unfinished temporary file " + f.tmp + ": " + std::strerror(errno));
      if (!f.failed && !f.existed) result_.unfinished_removed++;
    }
  }
  result_.files = files;
  result_.bytes = bytes;
}

}  // namespace arca::restore_detail
