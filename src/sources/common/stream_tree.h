// Builds a snapshot tree from entries that arrive one after another by relative path, in any
// order (a tar stream from a database server, a replication stream): file content is cut into
// chunks on the calling thread, chunks are hashed, compressed, encrypted and packed by a pool of
// worker threads, and the directory trees are stored at the end, deepest first.
//
// Memory stays bounded: at most a few chunks per worker are queued; only the entries' metadata
// (not their content) is kept until finish().
#pragma once
#include <atomic>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "repo/blob_writer.h"
#include "repo/repository.h"
#include "util/bounded_queue.h"
#include "util/progress.h"

namespace arca {

class StreamTree {
 public:
  // `threads` = 0: one per core.
  StreamTree(Repository& repo, BlobWriter& writer, ProgressCounters& progress, unsigned threads = 0);
  ~StreamTree();
  StreamTree(const StreamTree&) = delete;
  StreamTree& operator=(const StreamTree&) = delete;

  // `path` is relative ("base/1/1259"), made of safe components; missing parent directories are
  // created with `meta`-less defaults. A later entry for the same path replaces the earlier one.
  void add_dir(const std::string& path, Node meta);
  void add_symlink(const std::string& path, Node meta);
  // Starts a file; its content follows through write(), then end_file(). `fixed_chunk` > 0 cuts
  // fixed-size chunks (page-structured files: a changed page changes one chunk); 0 uses the
  // repository's content-defined chunker.
  void begin_file(const std::string& path, Node meta, size_t fixed_chunk = 0);
  void write(ByteView data);
  void end_file();
  // Waits for every chunk, stores all trees and returns the root tree's id. Call once.
  Id finish();

  // The snapshot statistics of a session that stored everything through this tree and `writer`.
  SnapshotStats stats(const BlobWriter& writer, double duration_s) const;

  uint64_t files() const { return files_; }
  uint64_t dirs() const { return dirs_.size() - 1; }
  uint64_t symlinks() const { return symlinks_; }
  uint64_t bytes() const { return bytes_; }

 private:
  struct FileContent {
    std::mutex mu;
    std::vector<Id> ids;
  };
  struct Job {
    std::shared_ptr<FileContent> file;
    size_t index = 0;
    Bytes data;
  };
  struct Entry {
    Node node;
    std::shared_ptr<FileContent> content;  // files
  };
  void put(const std::string& path, Entry e);
  void ensure_parents(const std::string& path);
  void cut(bool final);
  void emit(size_t len);
  void worker();
  void fail(std::exception_ptr e);
  void check_failed();
  Id store_dir(const std::string& path, const std::map<std::string, Id>& stored);
  Id store_dirs();

  Repository& repo_;
  BlobWriter& writer_;
  ProgressCounters& progress_;
  BoundedQueue<Job> queue_;
  std::vector<std::thread> workers_;
  std::map<std::string, Entry> entries_;  // every non-root entry by path
  std::map<std::string, bool> dirs_;      // directory paths ("" = root)
  // The file being written.
  std::string cur_path_;
  std::shared_ptr<FileContent> cur_;
  size_t cur_fixed_ = 0, cur_index_ = 0;
  uint64_t cur_size_ = 0;
  Bytes buf_;
  bool in_file_ = false;
  uint64_t files_ = 0, symlinks_ = 0, bytes_ = 0;
  std::mutex err_mu_;
  std::exception_ptr error_;
  std::atomic<bool> failed_{false};
  bool finished_ = false;
};

}  // namespace arca
