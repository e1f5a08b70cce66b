#include "restore/restore.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <mutex>
#include <system_error>
#include <thread>

#include "repo/tree_walk.h"
#include "restore/file_meta.h"
#include "restore/file_restore.h"
#include "util/beneath.h"
#include "util/error.h"
#include "util/fd.h"

namespace arca {
namespace restore_detail {

// Flush every this much (see BackgroundSync). Direct writes count too: they are durable only once
// the device's write cache is flushed, and some devices cache gigabytes (a VM disk cached by its host).
constexpr uint64_t kSyncEvery = 128 << 20;

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
  unsigned n = opts_.threads
                   ? opts_.threads
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
          } catch (const std::exception&) {}
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

}  // namespace restore_detail

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
  restore_detail::FileRestore r(repo, o, progress);
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
