// Internal to src/restore: the restore's state and its steps, split by job over
// restore.cpp (the run and the public functions), restore_plan.cpp (walking the snapshot's tree,
// creating directories and files), restore_write.cpp (writing and comparing data) and
// restore_target.cpp (operations on the target's filesystem). Not included elsewhere.
#pragma once
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "restore/holes.h"
#include "restore/restore.h"
#include "util/background_sync.h"
#include "util/bounded_queue.h"
#include "util/fd.h"

namespace arca::restore_detail {

struct PlannedFile {
  std::string rel;
  // Its temporary name in its directory until it is complete: always for a new file; for an
  // existing one, a copy made when the first differing chunk is found (guarded by copy_mu).
  std::string tmp;
  std::string write_rel;  // what the writers open: the temporary name's path
  std::mutex copy_mu;
  Node node;
  bool existed = false;           // an existing regular file: compared chunk by chunk, only differing chunks written
  bool replaces = false;          // something else (or a read-only or hard-linked file) stood at rel
  bool resized = false;           // existed with another size
  bool allocated = false;         // fallocate'd: zero runs must be punched, not just skipped
  std::vector<uint64_t> offsets;  // of each chunk
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
  PlannedFile* file;   // owned by files_; stable while the planner keeps adding files
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
  std::string snap_what_;                    // "snapshot ab12cd34", for errors
  std::vector<std::unique_ptr<PlannedFile>> files_;
  struct MetaEntry {
    std::string rel;
    Node node;
    const PlannedFile* file = nullptr;  // files: metadata is skipped if the content failed
  };
  std::vector<MetaEntry> meta_;                                      // entries needing metadata, in creation order
  std::map<std::pair<uint64_t, uint64_t>, PlannedFile*> hardlinks_;  // first name of each linked inode
  std::vector<PendingLink> links_;
  std::set<std::string> noted_other_;  // paths counted by note_other_kind (a dry run asks again)
  mutable std::vector<bool> include_used_;
  mutable std::vector<bool>
      exclude_used_;  // per --exclude: did it leave anything out  // per --include: did it select anything
  std::atomic<uint64_t> tmp_seq_{0};
  std::atomic<bool> punch_ok_{true};
  Id zero_chunk_id_;  // a dry run: the id of a chunk of zeros of the largest chunk size
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

// A read-only or forbidden target fails once, clearly, instead of once per file.
void check_target_writable(int root, const std::string& target);

}  // namespace arca::restore_detail
