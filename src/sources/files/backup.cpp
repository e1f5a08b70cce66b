#include "sources/files/backup.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_set>

#include "repo/blob_writer.h"
#include "repo/publish.h"
#include "repo/snapshot_filter.h"
#include "repo/tree_walk.h"
#include "restore/file_meta.h"
#include "util/bounded_queue.h"
#include "util/cancel.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/fd.h"

namespace arca {

std::string snapshot_top_name(const std::string& abs_path) {
  return abs_path == "/" ? "" : abs_path.substr(abs_path.rfind('/') + 1);
}

static std::string join_path(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

std::vector<std::string> normalize_paths(const std::vector<std::string>& paths) {
  if (paths.empty()) throw Error(ErrorKind::Usage, "no paths to back up");
  std::vector<std::string> out;
  std::set<std::string> names;
  for (const auto& p : paths) {
    std::string abs = std::filesystem::absolute(p).lexically_normal().string();
    while (abs.size() > 1 && abs.back() == '/') abs.pop_back();
    std::string name = snapshot_top_name(abs);
    if (std::find(out.begin(), out.end(), abs) != out.end()) continue;  // "data/src/ data/src": one path
    if (!names.insert(name).second)
      throw Error(ErrorKind::Usage, "two paths have the same name '" + name + "': back them up in separate snapshots");
    out.push_back(abs);
  }
  // The entries of '/' are the snapshot's top level: no room for another path beside them.
  if (out.size() > 1 && names.count(""))
    throw Error(ErrorKind::Usage, "'/' holds every other path: back up '/' alone (leave parts out with --exclude)");
  return out;
}

namespace {

struct DirState {
  std::shared_ptr<DirState> parent;
  size_t slot = 0;  // index in parent->nodes
  std::vector<Node> nodes;
  std::vector<uint8_t> skip;    // entries dropped (unreadable)
  std::atomic<int> pending{1};  // the walker holds one reference until it has listed everything
};

struct FileState {
  std::shared_ptr<DirState> dir;
  size_t slot = 0;
  std::mutex mu;
  std::vector<Id> content;
  bool changed = false;  // the parent snapshot had it (else new)
  std::atomic<int> pending{1};
};

struct ChunkJob {
  std::shared_ptr<FileState> file;
  size_t index = 0;
  Bytes data;
};

class FileBackup {
 public:
  FileBackup(Repository& repo, const BackupOptions& opts, ProgressCounters& progress)
      : repo_(repo), opts_(opts), progress_(progress), queue_(8) {
    // A dry run has no writer at all (not even a writer session): it must write nothing.
    if (!opts.dry_run) writer_.emplace(repo);
  }

  Snapshot run();
  const std::vector<SnapshotWarning>& outcome_warnings() const { return outcome_warnings_; }

 private:
  void walk_dir(const std::shared_ptr<DirState>& dir, const std::string& path, const Tree* parent_tree, dev_t dev);
  void handle_entry(const std::shared_ptr<DirState>& dir, size_t slot, const std::string& path, const struct stat& st,
                    const Node* parent_node, dev_t dev);
  void read_file(const std::shared_ptr<DirState>& dir, size_t slot, const std::string& path, const struct stat& st,
                 bool changed);
  void worker();
  void release_file(const std::shared_ptr<FileState>& f);
  void release_dir(const std::shared_ptr<DirState>& d);
  void warn(const std::string& path, const std::string& msg, bool partial);
  void fail(std::exception_ptr e);
  void check_failed();
  bool stopped() const { return (opts_.stop && opts_.stop->load()) || cancel_requested(opts_.cancel); }
  // Stores a blob, or in a dry run only counts it if new.
  void store(BlobType type, const Id& id, ByteView data);
  bool known(const Id& id) { return writer_ ? writer_->known(id) : repo_.index().usable(id); }
  std::optional<Tree> load_parent_tree(const Node* parent_node);
  void back_up_paths(const std::shared_ptr<DirState>& root, const std::vector<std::string>& paths,
                     const Tree* parent_root);

  Repository& repo_;
  const BackupOptions& opts_;
  ProgressCounters& progress_;
  std::optional<BlobWriter> writer_;  // absent in a dry run
  BoundedQueue<ChunkJob> queue_;
  std::promise<Id> root_;
  std::mutex mu_;
  std::vector<SnapshotWarning> warnings_;
  std::vector<SnapshotWarning> outcome_warnings_;  // the partial-making ones (shown even with -q)
  bool partial_ = false;
  std::exception_ptr error_;
  std::atomic<bool> failed_{false};
  SnapshotStats stats_;
  std::atomic<uint64_t> bytes_read_{0};
  Bytes read_buf_;
  std::vector<bool> exclude_hits_;               // by pattern: matched something (walker thread only)
  std::unordered_set<Id, IdHash> dry_run_seen_;  // new blobs a dry run would store
  uint64_t dry_run_blobs_ = 0, dry_run_bytes_ = 0;
};

void FileBackup::warn(const std::string& path, const std::string& msg, bool partial) {
  std::lock_guard lk(mu_);
  warnings_.push_back({path, msg});
  if (partial) {
    partial_ = true;
    outcome_warnings_.push_back({path, msg});
    progress_.errors++;
  }
}

void FileBackup::fail(std::exception_ptr e) {
  std::lock_guard lk(mu_);
  if (!error_) error_ = e;
  failed_ = true;
  queue_.close();
}

void FileBackup::check_failed() {
  if (stopped()) throw Error(ErrorKind::Cancelled, "backup cancelled: nothing was published");
  if (!failed_) return;
  std::lock_guard lk(mu_);
  std::rethrow_exception(error_);
}

void FileBackup::worker() {
  while (auto job = queue_.pop()) {
    try {
      Id id = repo_.blob_id(job->data);
      store(BlobType::Data, id, job->data);
      {
        std::lock_guard lk(job->file->mu);
        job->file->content[job->index] = id;
      }
      progress_.bytes_done += job->data.size();
      release_file(job->file);
    } catch (...) {
      fail(std::current_exception());
    }
  }
}

void FileBackup::store(BlobType type, const Id& id, ByteView data) {
  if (!opts_.dry_run) {
    writer_->add(type, id, data);
    return;
  }
  if (known(id)) return;
  std::lock_guard lk(mu_);
  if (!dry_run_seen_.insert(id).second) return;
  dry_run_blobs_++;
  dry_run_bytes_ += data.size();
}

void FileBackup::release_file(const std::shared_ptr<FileState>& f) {
  if (f->pending.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  Node& node = f->dir->nodes[f->slot];
  node.content = std::move(f->content);
  progress_.files_done++;
  // The stats say what the point holds: not files dropped for read errors, and the bytes read.
  if (!f->dir->skip[f->slot]) {
    std::lock_guard lk(mu_);
    stats_.files++;
    stats_.bytes += node.size;
    (f->changed ? stats_.files_changed : stats_.files_new)++;
  }
  release_dir(f->dir);
}

void FileBackup::release_dir(const std::shared_ptr<DirState>& d) {
  if (d->pending.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  Tree t;
  for (size_t i = 0; i < d->nodes.size(); i++)
    if (!d->skip[i]) t.nodes.push_back(std::move(d->nodes[i]));
  Bytes enc = encode_tree(t);
  Id id = repo_.blob_id(enc);
  store(BlobType::Tree, id, enc);
  if (d->parent) {
    d->parent->nodes[d->slot].subtree = id;
    release_dir(d->parent);
  } else {
    root_.set_value(id);
  }
}

std::optional<Tree> FileBackup::load_parent_tree(const Node* parent_node) {
  if (!parent_node || parent_node->type != NodeType::Dir || !parent_node->subtree) return std::nullopt;
  try {
    return repo_.load_tree(*parent_node->subtree);
  } catch (const Error& e) {
    warn("", std::string("parent snapshot tree unreadable, rereading files: ") + e.what(), false);
    return std::nullopt;
  }
}

static const Node* find_node(const Tree* t, const std::string& name) {
  if (!t) return nullptr;
  auto it = std::lower_bound(t->nodes.begin(), t->nodes.end(), name,
                             [](const Node& n, const std::string& s) { return n.name < s; });
  return it != t->nodes.end() && it->name == name ? &*it : nullptr;
}

void FileBackup::walk_dir(const std::shared_ptr<DirState>& dir, const std::string& path, const Tree* parent_tree,
                          dev_t dev) {
  std::vector<std::pair<std::string, struct stat>> entries;
  {
    DIR* d = opendir(path.c_str());
    if (!d) {
      warn(path, std::string("cannot list directory: ") + std::strerror(errno), true);
    } else {
      std::unique_ptr<DIR, int (*)(DIR*)> guard(d, closedir);
      while (dirent* e = readdir(d)) {
        std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        std::string child = join_path(path, name);
        if (opts_.excludes.excluded(child, exclude_hits_)) continue;
        struct stat st;
        if (lstat(child.c_str(), &st) != 0) {
          if (errno != ENOENT) warn(child, std::string("cannot stat: ") + std::strerror(errno), true);
          continue;
        }
        entries.emplace_back(std::move(name), st);
      }
    }
  }
  std::sort(entries.begin(), entries.end(), [](auto& a, auto& b) { return a.first < b.first; });
  dir->nodes.reserve(entries.size());
  for (auto& [name, st] : entries) {
    std::string child = join_path(path, name);
    dir->nodes.push_back(node_from_stat(name, child, st));
  }
  dir->skip.assign(entries.size(), 0);
  for (size_t i = 0; i < entries.size(); i++) {
    check_failed();
    std::string child = join_path(path, entries[i].first);
    handle_entry(dir, i, child, entries[i].second, find_node(parent_tree, entries[i].first), dev);
  }
  release_dir(dir);
}

void FileBackup::handle_entry(const std::shared_ptr<DirState>& dir, size_t slot, const std::string& path,
                              const struct stat& st, const Node* parent_node, dev_t dev) {
  Node& node = dir->nodes[slot];
  if (is_special(node.type)) {  // FIFOs, sockets, devices: metadata only, never opened
    std::lock_guard lk(mu_);
    stats_.special++;
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    {
      std::lock_guard lk(mu_);
      stats_.dirs++;
    }
    auto child = std::make_shared<DirState>();
    child->parent = dir;
    child->slot = slot;
    dir->pending++;
    if (opts_.one_file_system && st.st_dev != dev) {
      // A mount point stays as an empty directory (restic does this): a restored system has
      // the place to mount it again.
      release_dir(child);
      return;
    }
    auto parent_tree = load_parent_tree(parent_node);
    walk_dir(child, path, parent_tree ? &*parent_tree : nullptr, dev);
    return;
  }
  if (S_ISLNK(st.st_mode)) {
    std::string target(size_t(st.st_size) + 1, '\0');
    ssize_t n = readlink(path.c_str(), target.data(), target.size());
    if (n < 0) {
      warn(path, std::string("cannot read symlink: ") + std::strerror(errno), true);
      dir->skip[slot] = 1;
      return;
    }
    target.resize(size_t(n));
    node.link_target = target;
    std::lock_guard lk(mu_);
    stats_.symlinks++;
    return;
  }
  // Regular file: counted in the stats once it is in the tree (with the size actually stored).
  if (!opts_.force_reread && parent_node && parent_node->type == NodeType::File && parent_node->size == node.size &&
      parent_node->mtime_ns == node.mtime_ns && parent_node->ctime_ns == node.ctime_ns &&
      parent_node->inode == node.inode &&
      std::all_of(parent_node->content.begin(), parent_node->content.end(), [&](const Id& id) { return known(id); })) {
    node.content = parent_node->content;
    progress_.files_done++;
    progress_.bytes_done += node.size;
    std::lock_guard lk(mu_);
    stats_.files++;
    stats_.bytes += node.size;
    stats_.files_unchanged++;
    return;
  }
  read_file(dir, slot, path, st, parent_node != nullptr);
}

void FileBackup::read_file(const std::shared_ptr<DirState>& dir, size_t slot, const std::string& path,
                           const struct stat& st, bool changed) {
  progress_.set_current(path);
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOATIME));
  if (!fd && errno == EPERM) fd = UniqueFd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    warn(path, std::string("cannot read file: ") + std::strerror(errno), true);
    dir->skip[slot] = 1;
    return;
  }
  posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  auto file = std::make_shared<FileState>();
  file->dir = dir;
  file->slot = slot;
  file->changed = changed;
  dir->pending++;
  const Chunker& chunker = repo_.chunker();
  size_t max = chunker.params().max_size;
  Bytes& buf = read_buf_;  // reused: files are read by this one thread
  buf.resize(2 * max);
  size_t have = 0, pos = 0;
  bool eof = false;
  uint64_t total = 0, total_read = 0;
  bool read_error = false;
  size_t index = 0;
  while (true) {
    if (!eof && have - pos < max) {
      std::memmove(buf.data(), buf.data() + pos, have - pos);
      have -= pos;
      pos = 0;
      while (!eof && have < buf.size()) {
        // Read no more than the size seen when listing: a file growing faster than it can be
        // read (a busy log) must not keep the backup busy forever.
        uint64_t room = uint64_t(st.st_size) > total_read ? uint64_t(st.st_size) - total_read : 0;
        if (room == 0) {
          eof = true;
          break;
        }
        ssize_t n = read(fd.get(), buf.data() + have, std::min<uint64_t>(buf.size() - have, room));
        if (n < 0 && errno == EINTR) {
          check_failed();  // a signal: stop if asked to
          continue;
        }
        if (n < 0) {
          warn(path, std::string("read error: ") + std::strerror(errno), true);
          read_error = eof = true;
          break;
        }
        if (n == 0) eof = true;
        have += size_t(n);
        total_read += uint64_t(n);
      }
    }
    if (pos == have) break;
    if (stopped()) check_failed();
    size_t len = chunker.cut(ByteView(buf.data() + pos, have - pos));
    ChunkJob job{file, index++, Bytes(buf.begin() + ptrdiff_t(pos), buf.begin() + ptrdiff_t(pos + len))};
    pos += len;
    total += len;
    {
      std::lock_guard lk(file->mu);
      file->content.emplace_back();
    }
    file->pending++;
    if (!queue_.push(std::move(job))) check_failed();
  }
  bytes_read_ += total;
  struct stat after;
  Node& node = dir->nodes[slot];
  if (read_error) {
    dir->skip[slot] = 1;
  } else if (fstat(fd.get(), &after) == 0 &&
             (after.st_size != st.st_size || after.st_mtim.tv_sec != st.st_mtim.tv_sec ||
              after.st_mtim.tv_nsec != st.st_mtim.tv_nsec || uint64_t(after.st_size) != total)) {
    warn(path, "file changed while being read; the snapshot holds the " + std::to_string(total) + " bytes read", false);
  }
  node.size = total;
  release_file(file);
}

// The given paths become the root tree's entries, named by their last component. A missing
// path is a warning (restic does the same): the others are still backed up.
void FileBackup::back_up_paths(const std::shared_ptr<DirState>& root, const std::vector<std::string>& paths,
                               const Tree* parent_root) {
  std::vector<std::pair<std::string, struct stat>> found;
  std::string missing;
  for (const auto& p : paths) {
    struct stat st;
    if (lstat(p.c_str(), &st) != 0) {
      missing = "cannot back up " + p + ": " + std::strerror(errno);
      if (paths.size() > 1) warn(p, missing + "; the other paths are backed up", true);
      continue;
    }
    if (S_ISLNK(st.st_mode))
      warn(p, "is a symlink: only the link is stored, not what it points to (give the target's path to back it up)",
           false);
    found.emplace_back(p, st);
  }
  if (found.empty() && paths.size() == 1) throw Error(ErrorKind::NotFound, missing);
  if (found.empty())
    throw Error(ErrorKind::NotFound,
                "none of the paths to back up exists or can be read: " + missing + " (and the others likewise)");
  // Top-level entries are kept in name order like every other tree.
  std::sort(found.begin(), found.end(),
            [](auto& a, auto& b) { return snapshot_top_name(a.first) < snapshot_top_name(b.first); });
  for (const auto& [p, st] : found) {
    root->nodes.push_back(node_from_stat(snapshot_top_name(p), p, st));
  }
  root->skip.assign(found.size(), 0);
  for (size_t k = 0; k < found.size(); k++)
    handle_entry(root, k, found[k].first, found[k].second, find_node(parent_root, root->nodes[k].name),
                 found[k].second.st_dev);
  release_dir(root);
}

Snapshot FileBackup::run() {
  auto start = std::chrono::steady_clock::now();
  std::string start_time = now_rfc3339();  // the recovery point is when reading began
  std::vector<std::string> paths = normalize_paths(opts_.paths);
  // Pick the parent snapshot: explicit, or the newest with the same host and paths.
  std::optional<Snapshot> parent;
  PointIdentity who{opts_.host, start_time};
  std::string host = who.host = who.host_name();
  if (!opts_.force_reread) {
    if (opts_.parent) {
      parent = repo_.find_snapshot(*opts_.parent);
    } else {
      // Never a future-dated point: it would stay the parent of every later backup, and its
      // tree decides which files are not read again (see docs/security.md).
      parent = repo_.latest_snapshot([&](const Snapshot& s) {
        return s.source_kind == "files" && s.host == host && same_path_set(s.paths, paths);
      });
    }
  }
  std::optional<Tree> parent_root;
  if (parent) {
    try {
      parent_root = repo_.load_tree(content_root(repo_, *parent));
    } catch (const Error& e) {
      warn("", std::string("parent snapshot unreadable, reading every file: ") + e.what(), false);
      parent.reset();
    }
  }
  bool whole_system = paths.size() == 1 && paths[0] == "/";

  unsigned n = opts_.threads ? opts_.threads : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> workers;
  for (unsigned i = 0; i < n; i++) workers.emplace_back([this] { worker(); });

  auto root = std::make_shared<DirState>();
  exclude_hits_.assign(opts_.excludes.size(), false);
  try {
    if (whole_system) {
      // '/' is the snapshot's root tree: a restore to DIR puts /etc at DIR/etc.
      struct stat st;
      if (lstat("/", &st) != 0) throw_errno("stat", "/", errno);
      {
        std::lock_guard lk(mu_);
        stats_.dirs++;
      }
      walk_dir(root, "/", parent_root ? &*parent_root : nullptr, st.st_dev);
    } else {
      back_up_paths(root, paths, parent_root ? &*parent_root : nullptr);
    }
  } catch (...) {
    fail(std::current_exception());
  }
  queue_.close();
  for (auto& w : workers) w.join();
  check_failed();  // a cancel (or failure) before the root is stored: nothing published
  Id tree = root_.get_future().get();
  for (size_t i = 0; i < exclude_hits_.size(); i++)
    if (!exclude_hits_[i])
      warn("", "exclude pattern '" + opts_.excludes.pattern(i) + "' matched nothing: it excluded nothing", false);
  // Only the given directories, nothing beneath any of them, because excludes took it all: such
  // a point restores nothing, and saving it would look like a successful backup.
  if (!whole_system && std::find(exclude_hits_.begin(), exclude_hits_.end(), true) != exclude_hits_.end()) {
    uint64_t root_dirs =
        std::count_if(root->nodes.begin(), root->nodes.end(), [](const Node& n) { return n.type == NodeType::Dir; });
    if (stats_.files + stats_.symlinks + stats_.special == 0 && stats_.dirs <= root_dirs)
      throw Error(ErrorKind::Usage,
                  "the recovery point is empty: every entry was excluded (check the --exclude "
                  "patterns); nothing was saved");
  }
  check_failed();  // cancelled: skip the flush too (the writer's destructor drops its packs)
  if (writer_) writer_->flush();
  check_failed();  // interrupted while flushing: still nothing published

  Snapshot snap;
  snap.source_kind = "files";
  snap.paths = paths;
  snap.source_name = source_name_of(snap);  // the job: its path set (forget groups by it)
  if (whole_system) snap.metadata["layout"] = typed_meta("string", "root-entries");  // see content_root()
  snap.tags = split_tags(opts_.tags);
  if (parent) snap.parent = parent->id;
  snap.tree = tree;
  snap.stats = stats_;
  snap.stats.bytes_read = bytes_read_;
  snap.stats.blobs_added = writer_ ? writer_->blobs_added() : dry_run_blobs_;
  snap.stats.bytes_added = writer_ ? writer_->bytes_added() : dry_run_bytes_;
  snap.stats.stored_added = writer_ ? writer_->stored_bytes() : 0;
  snap.stats.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  snap.warnings = warnings_;
  snap.partial = partial_;
  if (opts_.dry_run) {
    stamp_point(snap, who);
    return snap;
  }
  publish_point(repo_, *writer_, snap, who, opts_.cancel);
  return snap;
}

}  // namespace

Snapshot backup_files(Repository& repo, const BackupOptions& opts, ProgressCounters& progress, BackupReport* report) {
  FileBackup b(repo, opts, progress);
  Snapshot snap = b.run();
  if (report) report->outcome_warnings = b.outcome_warnings();
  return snap;
}

void scan_totals(const BackupOptions& opts, ProgressCounters& progress) {
  std::function<void(const std::string&, dev_t)> walk = [&](const std::string& path, dev_t dev) {
    DIR* d = opendir(path.c_str());
    if (!d) return;
    std::unique_ptr<DIR, int (*)(DIR*)> guard(d, closedir);
    while (dirent* e = readdir(d)) {
      if ((opts.stop && *opts.stop) || cancel_requested(opts.cancel)) return;
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      std::string child = join_path(path, name);
      if (opts.excludes.excluded(child)) continue;
      struct stat st;
      if (lstat(child.c_str(), &st) != 0) continue;
      if (S_ISREG(st.st_mode)) {
        progress.files_total++;
        progress.bytes_total += uint64_t(st.st_size);
      } else if (S_ISDIR(st.st_mode) && !(opts.one_file_system && st.st_dev != dev)) {
        walk(child, dev);
      }
    }
  };
  for (const auto& p : normalize_paths(opts.paths)) {
    struct stat st;
    if (lstat(p.c_str(), &st) != 0) continue;
    if (S_ISREG(st.st_mode)) {
      progress.files_total++;
      progress.bytes_total += uint64_t(st.st_size);
    } else if (S_ISDIR(st.st_mode)) {
      walk(p, st.st_dev);
    }
  }
  progress.totals_known = true;
}

}  // namespace arca
