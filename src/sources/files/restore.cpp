#include "sources/files/restore.h"

#include <dirent.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <linux/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "repo/tree_walk.h"
#include "sources/files/exclude.h"
#include "sources/files/file_meta.h"
#include "sources/files/holes.h"
#include "sources/files/sparse_copy.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/aligned_buffer.h"
#include "util/background_sync.h"
#include "util/beneath.h"
#include "util/bounded_queue.h"
#include "util/io.h"

namespace arca {
namespace {

struct PlannedFile {
  std::string rel;
  // Its temporary name in its directory until it is complete: always for a new file; for an
  // existing one, a copy made when the first differing chunk is found (guarded by copy_mu).
  std::string tmp;
  std::string write_rel;  // what the writers open: the temporary name's path
  std::mutex copy_mu;
  Node node;
  bool existed = false;    // an existing regular file: compared chunk by chunk, only differing chunks written
  bool replaces = false;   // something else (or a read-only or hard-linked file) stood at rel
  bool resized = false;    // existed with another size
  bool allocated = false;  // fallocate'd: zero runs must be punched, not just skipped
  std::vector<uint64_t> offsets;      // of each chunk
  std::vector<BlobLocation> locs;
  std::atomic<bool> failed{false};      // a problem was recorded for it
  std::atomic<bool> damaged{false};     // ... because the repository's data is damaged
  std::atomic<bool> unfinished{false};  // the restore stopped before all its chunks were written
  std::atomic<bool> done{false};        // complete under its real name
  std::atomic<uint64_t> written{0};
  std::atomic<size_t> items_left{0};  // the file is done when this reaches 0
};

struct PendingLink {  // a further name of a hard-linked file, made once the first name is complete
  std::string rel;
  PlannedFile* first;
};

struct WorkItem {
  PlannedFile* file;  // owned by files_; stable while the planner keeps adding files
  size_t first, last;  // chunk range [first, last)
};

class FileRestore {
 public:
  FileRestore(Repository& repo, const RestoreOptions& opts, ProgressCounters& progress)
      : repo_(repo), opts_(opts), progress_(progress) {}

  RestoreResult run(const Snapshot& snap);

 private:
  bool selected(const std::string& rel) const;
  bool any_selected_below(const std::string& rel) const;
  // One directory being planned (see plan_tree).
  struct PlanFrame {
    Tree tree;
    size_t next = 0;  // the next entry of `tree`
    std::string rel;
    std::optional<Node> node;  // the directory's entry (none for the target itself)
    bool sel = false;          // selected itself (not only as a parent of included entries)
    size_t meta_pos = 0;       // meta_'s size when it was entered
  };
  void plan_tree(const Id& root);
  bool begin_dir(const Node& n, const std::string& child, PlanFrame& sub);
  bool load_dir(const Id& tree, PlanFrame& f);
  void end_dir(const PlanFrame& f);
  void plan_entry(const Node& n, const std::string& child);
  int open_dir(const std::string& rel);  // creates it (replacing a non-directory); returns fd
  void plan_file(const std::string& rel, const Node& node);
  void replace_non_dir(int dirfd, const std::string& name, const std::string& rel);
  void note_other_kind(int dirfd, const std::string& name, const std::string& rel, NodeType type);
  void delete_extra(int dirfd, const Tree& tree, const std::string& rel);
  void remove_stale_tmp(int dirfd, const std::string& rel);
  void work();
  void restore_range(const WorkItem& item);
  void compare_range(const WorkItem& item);
  void restore_range_direct(PlannedFile& f, const WorkItem& item, uint64_t start, uint64_t end);
  uint64_t write_with_holes(PlannedFile& f, int fd, const uint8_t* data, uint64_t off, uint64_t len);
  bool make_hole(PlannedFile& f, int fd, uint64_t from, uint64_t to);
  std::vector<std::pair<uint64_t, uint64_t>> holes_in(const uint8_t* data, uint64_t off, uint64_t len) const {
    if (opts_.no_sparse) return {};
    return zero_runs(data, off, len);
  }
  uint64_t would_write(const PlannedFile& f, size_t i) const;
  void finish_file(PlannedFile& f);
  UniqueFd create_tmp(int dirfd, PlannedFile& f);
  void make_copy(PlannedFile& f);
  UniqueFd open_copy(PlannedFile& f);
  void make_links();
  void settle_files();
  bool verify_file(PlannedFile& f);
  bool cancelled() const { return opts_.cancel && opts_.cancel->load(); }
  void problem(std::vector<RestoreProblem>& list, const std::string& path, const std::string& msg,
               RestoreProblemSource source = RestoreProblemSource::Target);
  void fail(PlannedFile& f, const std::string& msg, RestoreProblemSource source = RestoreProblemSource::Target);
  static std::pair<std::string, std::string> split(const std::string& rel);

  Repository& repo_;
  const RestoreOptions& opts_;
  ProgressCounters& progress_;
  UniqueFd root_;
  std::map<std::string, UniqueFd> dir_fds_;  // open directories during planning
  std::string snap_what_;                     // "snapshot ab12cd34", for errors
  std::vector<std::unique_ptr<PlannedFile>> files_;
  struct MetaEntry {
    std::string rel;
    Node node;
    const PlannedFile* file = nullptr;  // files: metadata is skipped if the content failed
  };
  std::vector<MetaEntry> meta_;  // entries needing metadata, in creation order
  std::map<std::pair<uint64_t, uint64_t>, PlannedFile*> hardlinks_;  // first name of each linked inode
  std::vector<PendingLink> links_;
  std::set<std::string> noted_other_;  // paths counted by note_other_kind (a dry run asks again)
  mutable std::vector<bool> include_used_;
  mutable std::vector<bool> exclude_used_;  // per --exclude: did it leave anything out  // per --include: did it select anything
  std::atomic<uint64_t> tmp_seq_{0};
  std::atomic<bool> punch_ok_{true};
  Id zero_chunk_id_;            // a dry run: the id of a chunk of zeros of the largest chunk size
  uint64_t zero_chunk_len_ = 0;
  // Planning (creating directories and files, one thread) feeds the writers through this queue,
  // so writing starts with the first file instead of after the last one is created.
  BoundedQueue<WorkItem> queue_{1 << 16};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  RestoreResult result_;
  std::atomic<uint64_t> written_{0};
  std::atomic<bool> direct_io_{true};
  std::atomic<bool> no_space_{false};
  UniqueFd sync_fd_;                               // the target, opened again for background_sync_
  std::optional<BackgroundSync> background_sync_;  // while the writers run
  void count_written(uint64_t n) {
    written_ += n;
    if (background_sync_) background_sync_->wrote(n);
  }
};

constexpr uint64_t kDirectMin = 1 << 20;  // smaller ranges: a direct write's latency would dominate
constexpr uint64_t kItemBytes = 4 << 20;
// Flush every this much (see BackgroundSync). Direct writes count too: they are durable only once
// the device's write cache is flushed, and some devices cache gigabytes (a VM disk cached by its host).
constexpr uint64_t kSyncEvery = 128 << 20;

// A read-only or forbidden target fails once, clearly, instead of once per file.
static void check_target_writable(int root, const std::string& target) {
  struct statvfs vfs;
  if (fstatvfs(root, &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
    throw Error(ErrorKind::Io, "cannot restore into " + target +
                                   ": its filesystem is mounted read-only; remount it read-write or choose another --target");
  if (faccessat(root, ".", W_OK | X_OK, AT_EACCESS) != 0 && errno == EACCES)
    throw Error(ErrorKind::Io, "cannot restore into " + target +
                                   ": permission denied; restore as a user who may write there, or choose another --target");
}

std::pair<std::string, std::string> FileRestore::split(const std::string& rel) {
  size_t slash = rel.rfind('/');
  if (slash == std::string::npos) return {"", rel};
  return {rel.substr(0, slash), rel.substr(slash + 1)};
}

void FileRestore::problem(std::vector<RestoreProblem>& list, const std::string& path, const std::string& msg,
                          RestoreProblemSource source) {
  if (&list == &result_.errors) progress_.errors++;
  std::lock_guard lk(mu_);
  list.push_back({path, msg, source});
}

void FileRestore::fail(PlannedFile& f, const std::string& msg, RestoreProblemSource source) {
  problem(result_.errors, f.rel, msg, source);
  if (source == RestoreProblemSource::Repository) f.damaged = true;
  f.failed = true;
}

bool FileRestore::selected(const std::string& rel) const {
  for (size_t i = 0; i < opts_.excludes.size(); i++)
    if (path_matches(opts_.excludes[i], rel)) return !(exclude_used_[i] = true);
  if (opts_.includes.empty()) return true;
  bool any = false;
  for (size_t i = 0; i < opts_.includes.size(); i++)  // all of them: to tell which matched nothing
    if (path_matches(opts_.includes[i], rel)) any = include_used_[i] = true;
  return any;
}

// Could an include pattern select something below directory `rel`? (cheap, conservative)
bool FileRestore::any_selected_below(const std::string& rel) const {
  if (opts_.includes.empty()) return true;
  for (const auto& i : opts_.includes) {
    std::string p = i;
    while (!p.empty() && p[0] == '/') p.erase(0, 1);
    if (p.find('/') == std::string::npos) return true;  // a bare name can match at any depth
    if (p.rfind(rel + "/", 0) == 0 || p.find_first_of("*?[") < rel.size()) return true;
  }
  return false;
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
    case NodeType::Dir: return S_ISDIR(m);
    case NodeType::Symlink: return S_ISLNK(m);
    case NodeType::File: return S_ISREG(m);
    default: return !S_ISREG(m) && !S_ISDIR(m) && !S_ISLNK(m);  // a special file is recreated anyway
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
    if (unlinkat(dirfd, n.c_str(), 0) == 0) result_.stale_tmp_removed.push_back(path);
    else problem(result_.warnings, path, std::string("cannot remove a leftover temporary file: ") + std::strerror(errno));
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

void FileRestore::plan_file(const std::string& rel, const Node& node) {
  auto [parent, name] = split(rel);
  int dfd = open_dir(parent);
  if (node.links > 1) {
    auto key = std::make_pair(node.device, node.inode);
    auto it = hardlinks_.find(key);
    if (it != hardlinks_.end()) {
      // The first name is still a temporary one: the link is made once that file is complete.
      if (opts_.dry_run) result_.hardlinks++;
      else links_.push_back({rel, it->second});
      return;
    }
  }
  files_.push_back(std::make_unique<PlannedFile>());  // every planned file is accounted for at the end
  PlannedFile* f = files_.back().get();
  if (node.links > 1) hardlinks_.emplace(std::make_pair(node.device, node.inode), f);
  f->rel = rel;
  f->write_rel = rel;
  f->node = node;
  uint64_t off = 0;
  for (const auto& id : node.content) {
    auto loc = repo_.find_blob(id);
    if (!loc) {
      // Not found may mean unreadable: packs sealed with a missing key version are not indexed.
      std::string keys_note = repo_.keys().unavailable_note();
      fail(*f, "data blob " + id.short_hex() + (keys_note.empty() ? " is missing from the repository" : " is in no readable index or pack; " + keys_note), RestoreProblemSource::Repository);
      break;
    }
    f->offsets.push_back(off);
    f->locs.push_back(*loc);
    off += loc->raw_length;
  }
  if (!f->failed && off != node.size)
    problem(result_.warnings, rel, "content length " + std::to_string(off) + " differs from recorded size");
  progress_.bytes_total += node.size;
  progress_.files_total++;
  if (f->failed) return;  // a file whose data is missing is left as it is
  struct stat st;
  if (dfd >= 0 && fstatat(dfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISDIR(st.st_mode))
      throw Error(ErrorKind::Usage, "cannot restore " + rel + ": a directory of that name exists in the target");
    // Anything but a regular file of one link is replaced (never written through: a hard link
    // would change the other names' content too).
    if (S_ISREG(st.st_mode) && st.st_nlink == 1) f->existed = true;
    else f->replaces = true;
    f->resized = f->existed && uint64_t(st.st_size) != off;
  }
  if (opts_.dry_run && !f->existed) {  // would be written whole, but for its holes
    for (size_t i = 0; i < f->locs.size(); i++) written_ += would_write(*f, i);
    f->done = true;
    return;
  }
  if (!opts_.dry_run && f->existed) {
    UniqueFd fd(openat(dfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd && errno == EACCES) {
      // An existing file we may not read (e.g. mode 0200 as a non-root user): replace it.
      f->existed = false;
      f->replaces = true;
    } else if (!fd) {
      throw_errno("open", rel, errno);
    } else if (f->resized) {
      make_copy(*f);  // the new size is set on the copy; the existing file is never changed
    }
  }
  if (!opts_.dry_run && !f->existed) {
    // A new file is written under a temporary name and renamed into place when complete, so
    // that a stop or damage never leaves a wrong file (full size, zeros) under its real name.
    UniqueFd fd = create_tmp(dfd, *f);
    // Allocating all blocks up front keeps a file that several threads write at once contiguous.
    if (off > 0) {
      if (fallocate(fd.get(), 0, 0, off_t(off)) == 0) f->allocated = true;
      else if (errno != EOPNOTSUPP && errno != ENOSYS) throw_errno("allocate space for", rel, errno);
    }
    if (ftruncate(fd.get(), off_t(off)) != 0) throw_errno("resize", rel, errno);
  }
  // Split into work items of up to ~4 MiB so one large file is restored by all threads at once
  // (and each thread's assembly buffer stays small).
  std::vector<WorkItem> items;
  size_t n = f->locs.size();
  for (size_t i = 0; i < n;) {
    size_t j = i;
    uint64_t bytes = 0;
    while (j < n && (j == i || bytes + f->locs[j].raw_length <= kItemBytes)) bytes += f->locs[j++].raw_length;
    items.push_back({f, i, j});
    i = j;
  }
  // Planning runs ahead of the writers: the read-ahead learns which pack windows are still needed.
  if (!f->existed)
    for (const auto& loc : f->locs) repo_.expect_blob_read(loc);
  f->items_left = items.size();  // set before any item is queued: writers count it down
  if (!opts_.dry_run) meta_.push_back({rel, node, f});
  if (items.empty()) {
    finish_file(*f);
    progress_.files_done++;
  }
  for (auto& item : items) queue_.push(item);
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

// Planning walks the tree with an explicit stack, one frame per open directory: a planted chain
// of nested trees cannot exhaust the thread's stack, and it stops at kMaxTreeDepth with an error
// for its path while the rest of the point is restored (docs/security.md, "Tree depth").
void FileRestore::plan_tree(const Id& root) {
  std::vector<PlanFrame> stack(1);
  stack[0].tree = repo_.load_tree(root);  // no snapshot tree: nothing to restore
  while (!stack.empty()) {
    PlanFrame& f = stack.back();
    if (cancelled()) stop_ = true;
    // Done, or stopped (the target filesystem is full, or a signal): settle the directory.
    if (stop_ || f.next == f.tree.nodes.size()) {
      end_dir(f);
      stack.pop_back();
      continue;
    }
    const Node& n = f.tree.nodes[f.next++];
    std::string child = f.rel.empty() ? n.name : f.rel + "/" + n.name;
    if (child.size() > kMaxPathBytes) {  // an error of the repository, like a tree too deep
      problem(result_.errors, f.rel, path_too_long(snap_what_, child).what(), RestoreProblemSource::Repository);
      continue;
    }
    try {
      if (n.type != NodeType::Dir) {
        plan_entry(n, child);
        continue;
      }
      PlanFrame sub;
      if (!begin_dir(n, child, sub)) continue;
      if (stack.size() >= kMaxTreeDepth) {
        problem(result_.errors, child, tree_too_deep(snap_what_, child).what(), RestoreProblemSource::Repository);
        end_dir(sub);
        continue;
      }
      if (!load_dir(*n.subtree, sub)) {
        end_dir(sub);
        continue;
      }
      stack.push_back(std::move(sub));  // `f` and `n` are not used after this
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::NoSpace) throw;
      problem(result_.errors, child, e.what());  // one bad entry does not stop the restore
    }
  }
}

// A directory entry's work before its contents; false if it is not restored at all.
bool FileRestore::begin_dir(const Node& n, const std::string& child, PlanFrame& sub) {
  bool sel = selected(child);
  if (!sel && !any_selected_below(child)) return false;
  for (size_t i = 0; i < opts_.excludes.size(); i++)
    if (path_matches(opts_.excludes[i], child)) return exclude_used_[i] = true, false;
  sub.meta_pos = meta_.size();
  if (sel) {
    open_dir(child);
    result_.dirs++;
    meta_.push_back({child, n});
  }
  sub.rel = child;
  sub.node = n;
  sub.sel = sel;
  return true;
}

// Reads a directory's tree into its frame; a damaged one is an error of that directory.
bool FileRestore::load_dir(const Id& tree, PlanFrame& f) {
  try {
    f.tree = repo_.load_tree(tree);
  } catch (const Error& e) {
    problem(result_.errors, f.rel, e.what(), RestoreProblemSource::Repository);
    return false;
  }
  // --delete works inside restored directories, never on the target directory itself.
  if (opts_.delete_extra && selected(f.rel)) {
    int dfd = open_dir(f.rel);
    if (dfd >= 0) delete_extra(dfd, f.tree, f.rel);
  }
  return true;
}

// A directory entry's work after its contents.
void FileRestore::end_dir(const PlanFrame& f) {
  if (!f.node) return;  // the target directory itself
  // A directory created only as the parent of included entries gets its metadata too; it
  // goes before its children so that (applied in reverse) it lands after them.
  if (!f.sel && dir_fds_.count(f.rel)) meta_.insert(meta_.begin() + ptrdiff_t(f.meta_pos), MetaEntry{f.rel, *f.node});
  dir_fds_.erase(f.rel);
}

// Entries other than directories (plan_tree walks those).
void FileRestore::plan_entry(const Node& n, const std::string& child) {
  bool sel = selected(child);
  if (!sel) return;
  if (n.type == NodeType::File) {
    plan_file(child, n);
    return;
  }
  if (is_special(n.type)) {  // FIFOs, sockets, device nodes: recreated beneath the target
    auto [parent, name] = split(child);
    int dfd = open_dir(parent);
    note_other_kind(dfd, name, child, n.type);
    result_.specials++;
    if (opts_.dry_run) return;
    replace_non_dir(dfd, name, child);
    if (int err = make_special(dfd, name, n))
      throw_errno(std::string("create ") + node_type_name(n.type), child, err);
    meta_.push_back({child, n});
    return;
  }
  result_.symlinks++;
  if (opts_.dry_run) return;
  auto [parent, name] = split(child);
  int dfd = open_dir(parent);
  replace_non_dir(dfd, name, child);
  if (symlinkat(n.link_target.c_str(), dfd, name.c_str()) != 0) throw_errno("create symlink", child, errno);
  meta_.push_back({child, n});
}

void FileRestore::restore_range(const WorkItem& item) {
  PlannedFile& f = *item.file;
  if (f.failed) return;
  if (opts_.dry_run) {
    compare_range(item);
    return;
  }
  uint64_t start = f.offsets[item.first];
  uint64_t end = f.offsets[item.last - 1] + f.locs[item.last - 1].raw_length;
  if (!f.existed && direct_io_ && end - start >= kDirectMin) {
    restore_range_direct(f, item, start, end);
    return;
  }
  // An existing file is compared with the snapshot as it is (it is never changed) and the
  // differing chunks written to its copy; a new file is written under its temporary name.
  UniqueFd fd, cmp;
  if (f.existed) cmp = UniqueFd(open_beneath(root_.get(), f.rel, O_RDONLY));
  else fd = UniqueFd(open_beneath(root_.get(), f.write_rel, O_WRONLY));
  if (!fd && !cmp) {
    fail(f, std::string(f.existed ? "cannot open: " : "cannot open for writing: ") + std::strerror(errno));
    return;
  }
  Bytes existing;
  for (size_t i = item.first; i < item.last; i++) {
    const BlobLocation& loc = f.locs[i];
    const Id& id = f.node.content[i];
    if (f.existed) {
      existing.resize(loc.raw_length);
      size_t n = pread_full(cmp.get(), existing, off_t(f.offsets[i]), f.rel);
      if (n == existing.size() && repo_.blob_id(existing) == id) {
        progress_.bytes_done += loc.raw_length;
        continue;
      }
    }
    Bytes data;
    try {
      data = repo_.read_blob(id, loc);
    } catch (const Error& e) {
      fail(f, e.what(), RestoreProblemSource::Repository);
      return;
    }
    if (!fd) fd = open_copy(f);
    uint64_t n = write_with_holes(f, fd.get(), data.data(), f.offsets[i], data.size());
    count_written(n);
    f.written += n;
    progress_.bytes_done += data.size();
  }
}

// A dry run: counts what an existing file would need written (reads the target, never the repository).
void FileRestore::compare_range(const WorkItem& item) {
  PlannedFile& f = *item.file;
  UniqueFd fd(open_beneath(root_.get(), f.rel, O_RDONLY));
  Bytes existing;
  for (size_t i = item.first; i < item.last; i++) {
    const BlobLocation& loc = f.locs[i];
    existing.resize(loc.raw_length);
    bool same = fd && pread_full(fd.get(), existing, off_t(f.offsets[i]), f.rel) == existing.size() &&
                repo_.blob_id(existing) == f.node.content[i];
    if (!same) {
      uint64_t w = would_write(f, i);
      count_written(w);
      f.written += w;
    }
    progress_.bytes_done += loc.raw_length;
  }
}

// What restoring chunk i would write. Long zero runs become chunks of the chunker's largest size,
// all zeros: a dry run recognises them by id (without reading the repository) and leaves out
// the holes they would become (as write_with_holes would, per chunk).
uint64_t FileRestore::would_write(const PlannedFile& f, size_t i) const {
  uint64_t off = f.offsets[i], len = f.locs[i].raw_length;
  if (opts_.no_sparse || len != zero_chunk_len_ || f.node.content[i] != zero_chunk_id_) return len;
  uint64_t a = (off + kHoleBlock - 1) / kHoleBlock * kHoleBlock, b = (off + len) / kHoleBlock * kHoleBlock;
  if (b <= a || b - a < kHoleMin) return len;
  return len - (b - a);
}

// Writes `len` bytes of `data` at file offset `off`, leaving its long zero runs as holes.
// Returns the bytes written.
uint64_t FileRestore::write_with_holes(PlannedFile& f, int fd, const uint8_t* data, uint64_t off, uint64_t len) {
  uint64_t pos = off, wrote = 0;
  auto put = [&](uint64_t from, uint64_t to) {
    if (to <= from) return;
    pwrite_all(fd, ByteView(data + (from - off), to - from), off_t(from), f.rel);
    wrote += to - from;
  };
  for (auto [h0, h1] : holes_in(data, off, len)) {
    put(pos, h0);
    if (!make_hole(f, fd, h0, h1)) put(h0, h1);
    pos = h1;
  }
  put(pos, off + len);
  return wrote;
}

// Leaves [from, to) of the file as a hole; false if the zeros must be written instead.
bool FileRestore::make_hole(PlannedFile& f, int fd, uint64_t from, uint64_t to) {
  if (!f.existed && !f.allocated) return true;  // a new file's unwritten range is a hole already
  if (!punch_ok_) return false;
  if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off_t(from), off_t(to - from)) == 0) return true;
  if (errno == EOPNOTSUPP || errno == ENOSYS) punch_ok_ = false;  // this filesystem has no holes
  return false;
}

// Large new ranges bypass the page cache: the range is assembled in an aligned buffer, its
// block-aligned interior written with O_DIRECT and only the partial blocks at its ends through
// the page cache. Restores of big files then cost the kernel almost nothing, do not evict the
// host's working set, and are on disk when the command returns.
void FileRestore::restore_range_direct(PlannedFile& f, const WorkItem& item, uint64_t start, uint64_t end) {
  thread_local AlignedBuffer buf;
  uint64_t base = align_down(start);
  buf.reserve(end - base);
  for (size_t i = item.first; i < item.last; i++) {
    try {
      repo_.read_blob_into(f.node.content[i], f.locs[i], {buf.data() + (f.offsets[i] - base), f.locs[i].raw_length});
    } catch (const Error& e) {
      fail(f, e.what(), RestoreProblemSource::Repository);
      return;
    }
  }
  uint64_t a = std::min(align_up(start), end), b = std::max(align_down(end), a);
  UniqueFd fd(open_beneath(root_.get(), f.write_rel, O_WRONLY));
  if (!fd) {
    fail(f, std::string("cannot open for writing: ") + std::strerror(errno));
    return;
  }
  uint64_t wrote = 0;
  auto buffered = [&](uint64_t from, uint64_t to) {
    if (to > from) pwrite_all(fd.get(), ByteView(buf.data() + (from - base), to - from), off_t(from), f.rel);
    wrote += to > from ? to - from : 0;
  };
  buffered(start, a);
  if (b > a) {
    UniqueFd dfd(open_beneath(root_.get(), f.write_rel, O_WRONLY | O_DIRECT));
    bool direct = bool(dfd);
    // The aligned interior, without its long zero runs (holes; their bounds are block-aligned).
    auto put = [&](uint64_t from, uint64_t to) {
      if (to <= from) return;
      if (direct) {
        ssize_t n = pwrite(dfd.get(), buf.data() + (from - base), to - from, off_t(from));
        if (n == ssize_t(to - from)) {
          wrote += to - from;
          return;
        }
        if (n < 0 && errno != EINVAL) throw_errno("write", f.rel, errno);
        direct = false;
        direct_io_ = false;  // this filesystem does not do O_DIRECT (tmpfs, some network filesystems)
      }
      buffered(from, to);
    };
    uint64_t pos = a;
    for (auto [h0, h1] : holes_in(buf.data() + (a - base), a, b - a)) {
      put(pos, h0);
      if (!make_hole(f, fd.get(), h0, h1)) put(h0, h1);
      pos = h1;
    }
    put(pos, b);
  }
  buffered(b, end);
  count_written(wrote);
  f.written += wrote;
  progress_.bytes_done += end - start;
}

bool FileRestore::verify_file(PlannedFile& f) {
  UniqueFd fd(open_beneath(root_.get(), f.rel, O_RDONLY));
  if (!fd) return false;
  struct stat st;
  if (fstat(fd.get(), &st) != 0 || uint64_t(st.st_size) != f.node.size) return false;
  Bytes buf;
  for (size_t i = 0; i < f.locs.size(); i++) {
    buf.resize(f.locs[i].raw_length);
    if (pread_full(fd.get(), buf, off_t(f.offsets[i]), f.rel) != buf.size()) return false;
    if (repo_.blob_id(buf) != f.node.content[i]) return false;
  }
  return true;
}

void FileRestore::work() {
  while (auto item = queue_.pop()) {
    PlannedFile& f = *item->file;
    if (cancelled()) stop_ = true;
    if (stop_) {  // drain after a full disk or a signal: what was not written is not restored
      f.unfinished = true;
      continue;
    }
    try {
      restore_range(*item);
      if (--f.items_left == 0) {
        finish_file(f);
        progress_.files_done++;
      }
    } catch (const Error& e) {
      fail(f, e.what());
      if (e.kind() == ErrorKind::NoSpace) {
        no_space_ = true;
        stop_ = true;  // a full disk stops the restore; the error says what to do
      }
    } catch (const std::exception& e) {
      fail(f, e.what());
    }
  }
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
      if (linkat(src.get(), first_name.c_str(), dfd.get(), name.c_str(), 0) != 0) throw_errno("hard link", l.rel, errno);
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
      if (f.existed && f.written == 0 && !f.resized) result_.files_unchanged++;
      else if (f.existed || f.replaces) result_.files_replaced++;
      else result_.files_new++;
      continue;
    }
    if (f.damaged) result_.damaged.push_back(f.rel);
    if (!f.tmp.empty()) {
      written_ -= f.written;  // what was written to it is gone: "wrote" counts what stays
      auto [parent, name] = split(f.rel);
      UniqueFd pfd(parent.empty() ? dup(root_.get()) : open_beneath(root_.get(), parent, O_RDONLY | O_DIRECTORY));
      if (pfd && unlinkat(pfd.get(), f.tmp.c_str(), 0) != 0 && errno != ENOENT)
        problem(result_.warnings, f.rel, "cannot remove the unfinished temporary file " + f.tmp + ": " + std::strerror(errno));
      if (!f.failed && !f.existed) result_.unfinished_removed++;
    }
  }
  result_.files = files;
  result_.bytes = bytes;
}

RestoreResult FileRestore::run(const Snapshot& snap) {
  auto start = std::chrono::steady_clock::now();
  if (opts_.target.empty()) throw Error(ErrorKind::Usage, "no restore target given (--target DIR)");
  // Before anything is written: a point expanding to billions of entries through repeated
  // subtrees would restore for ever (docs/security.md, "Tree depth").
  refuse_tree_bomb(repo_, content_root(repo_, snap), "snapshot " + snap.id.short_hex());
  include_used_.assign(opts_.includes.size(), false);
  exclude_used_.assign(opts_.excludes.size(), false);
  if (opts_.dry_run && !opts_.no_sparse) {
    zero_chunk_len_ = repo_.chunker().params().max_size;
    zero_chunk_id_ = repo_.blob_id(Bytes(zero_chunk_len_, 0));
  }
  if (!opts_.dry_run) {
    std::error_code ec;
    std::filesystem::create_directories(opts_.target, ec);
    if (ec) throw Error(ErrorKind::Io, "cannot create target " + opts_.target + ": " + ec.message());
  }
  root_ = UniqueFd(open(opts_.target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_ && !opts_.dry_run) throw_errno("open target", opts_.target, errno);
  if (!opts_.dry_run) {
    check_target_writable(root_.get(), opts_.target);
    remove_stale_tmp(root_.get(), "");
  }
  repo_.index();
  // The reads plan_file announces are this restore's only (an error or a full disk leaves some unmade).
  struct ForgetReads {
    const Repository& repo;
    ~ForgetReads() { repo.forget_blob_reads(); }
  } forget_reads{repo_};
  unsigned n = opts_.threads ? opts_.threads
                             : std::max(2 * std::max(1u, std::thread::hardware_concurrency()), repo_.backend().parallelism());
  {
    std::vector<std::thread> pool;
    if (!opts_.dry_run) {
      // An open file of its own, never a dup of root_: syncfs reports a writeback error once per
      // open file, so the final syncfs on root_ still reports what a background flush met.
      sync_fd_ = UniqueFd(openat(root_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      std::function<void()> flush;
      if (sync_fd_) flush = [fd = sync_fd_.get()] { syncfs(fd); };
      background_sync_.emplace(std::move(flush), kSyncEvery);
    }
    // A dry run compares existing files with the snapshot in parallel too.
    for (unsigned i = 0; i < n; i++) pool.emplace_back([&] { work(); });
    std::exception_ptr planning_error;
    try {
      snap_what_ = "snapshot " + snap.id.short_hex();
      plan_tree(content_root(repo_, snap));
    } catch (...) {
      planning_error = std::current_exception();
      stop_ = true;
    }
    progress_.totals_known = true;  // planning is done: the totals are final
    queue_.close();
    for (auto& t : pool) t.join();
    background_sync_.reset();
    sync_fd_.reset();
    dir_fds_.clear();
    if (planning_error) {
      settle_files();  // no temporary file is left behind
      std::rethrow_exception(planning_error);
    }
  }
  result_.interrupted = cancelled();
  for (size_t i = 0; i < opts_.includes.size(); i++)
    if (!include_used_[i]) result_.unmatched_includes.push_back(opts_.includes[i]);
  for (size_t i = 0; i < opts_.excludes.size(); i++)
    if (!exclude_used_[i]) result_.unmatched_excludes.push_back(opts_.excludes[i]);
  if (opts_.dry_run) {
    settle_files();
    result_.bytes_written = written_;
    result_.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result_;
  }
  if (!stop_) make_links();
  if (opts_.verify && !stop_) {
    std::atomic<size_t> vnext{0};
    std::vector<std::thread> pool;
    for (unsigned i = 0; i < n; i++)
      pool.emplace_back([&] {
        for (size_t k; (k = vnext++) < files_.size();) {
          PlannedFile& f = *files_[k];
          if (!f.done) continue;
          bool ok = false;
          try {
            ok = verify_file(f);
          } catch (const std::exception&) {
          }
          if (ok) {
            std::lock_guard lk(mu_);
            result_.files_verified++;
          } else {
            problem(result_.errors, f.rel, "verification failed: restored content differs from the snapshot");
          }
        }
      });
    for (auto& t : pool) t.join();
  }
  settle_files();
  // Metadata last, deepest first, so directory times are not disturbed by their children.
  for (auto it = meta_.rbegin(); it != meta_.rend(); ++it) {
    // A file whose content is not complete keeps no restored mtime/size look-alike that tools would trust.
    if (it->file && !it->file->done) continue;
    auto [parent, name] = split(it->rel);
    UniqueFd pfd(parent.empty() ? dup(root_.get()) : open_beneath(root_.get(), parent, O_RDONLY | O_DIRECTORY));
    std::string err = pfd ? apply_metadata(pfd.get(), name, it->node)
                          : std::string("cannot open parent directory: ") + std::strerror(errno);
    if (!err.empty()) problem(result_.warnings, it->rel, err);
  }
  // Durable before reported done: one syncfs() flushes what went through the page cache (the
  // direct writes are on disk already) together with the new directory entries.
  if (syncfs(root_.get()) != 0)
    problem(result_.errors, opts_.target, std::string("flushing the restore to disk failed: ") + std::strerror(errno));
  result_.bytes_written = written_;
  result_.no_space = no_space_;
  result_.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result_;
}

}  // namespace

std::string tree_pattern(const Snapshot& snap, const std::string& pattern, const std::string& what) {
  if (pattern.empty() || pattern[0] != '/') return pattern;
  std::string paths, example;
  for (std::string p : snap.paths) {
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    paths += (paths.empty() ? "" : ", ") + p;
    if (p == "/") return pattern.substr(1);  // a point of '/' has the entries of '/' at the top
    std::string top = p.substr(p.rfind('/') + 1);
    if (pattern == p || pattern.rfind(p + "/", 0) == 0) return top + pattern.substr(p.size());
    if (example.empty()) example = top + "/…";
  }
  throw Error(ErrorKind::Usage, what + " '" + pattern + "' is not below any path of snapshot " + snap.id.short_hex() +
                                    " (" + paths + "); patterns name paths in the snapshot's tree" +
                                    (example.empty() ? "" : ", such as '" + example + "'"));
}

RestoreResult restore_files(Repository& repo, const Snapshot& snap, const RestoreOptions& opts,
                            ProgressCounters& progress) {
  RestoreOptions o = opts;
  for (auto& p : o.includes) p = tree_pattern(snap, p, "--include");
  for (auto& p : o.excludes) p = tree_pattern(snap, p, "--exclude");
  FileRestore r(repo, o, progress);
  RestoreResult res = r.run(snap);
  // Unmatched patterns are reported as the user wrote them.
  auto as_given = [](std::vector<std::string>& list, const std::vector<std::string>& mapped,
                     const std::vector<std::string>& given) {
    for (auto& p : list)
      for (size_t i = 0; i < mapped.size(); i++)
        if (mapped[i] == p) p = given[i];
  };
  as_given(res.unmatched_includes, o.includes, opts.includes);
  as_given(res.unmatched_excludes, o.excludes, opts.excludes);
  return res;
}

}  // namespace arca
