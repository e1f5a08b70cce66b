#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "repo/tree_walk.h"
#include "restore/file_meta.h"
#include "restore/file_restore.h"
#include "restore/path_select.h"
#include "util/error.h"
#include "util/fd.h"

// Planning: walking the snapshot's tree, choosing what is restored, creating directories, files
// and other entries, and queueing the files' chunks for the writers.
namespace arca::restore_detail {

constexpr uint64_t kItemBytes = 4 << 20;

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

void FileRestore::plan_file(const std::string& rel, const Node& node) {
  auto [parent, name] = split(rel);
  int dfd = open_dir(parent);
  if (node.links > 1) {
    auto key = std::make_pair(node.device, node.inode);
    auto it = hardlinks_.find(key);
    if (it != hardlinks_.end()) {
      // The first name is still a temporary one: the link is made once that file is complete.
      if (opts_.dry_run)
        result_.hardlinks++;
      else
        links_.push_back({rel, it->second});
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
      fail(*f,
           "data blob " + id.short_hex() +
               (keys_note.empty() ? " is missing from the repository"
                                  : " is in no readable index or pack; " + keys_note),
           RestoreProblemSource::Repository);
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
    if (S_ISREG(st.st_mode) && st.st_nlink == 1)
      f->existed = true;
    else
      f->replaces = true;
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
      if (fallocate(fd.get(), 0, 0, off_t(off)) == 0)
        f->allocated = true;
      else if (errno != EOPNOTSUPP && errno != ENOSYS)
        throw_errno("allocate space for", rel, errno);
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
    if (int err = make_special(dfd, name, n)) throw_errno(std::string("create ") + node_type_name(n.type), child, err);
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

}  // namespace arca::restore_detail
