// Reads one file of a snapshot as a byte stream (its chunks in order), fetching the next chunk
// while the caller consumes the current one. For sources that replay a stored file through a
// parser or a pipe (RDB files, dumps) instead of writing it to disk.
#pragma once
#include <future>
#include <vector>

#include "repo/repository.h"

namespace arca {

class ContentReader {
 public:
  ContentReader(Repository& repo, std::vector<Id> chunks);
  // Up to `max` bytes; 0 at the end. Errors as Repository::read_blob (Corrupt, NotFound…).
  size_t read(uint8_t* out, size_t max);

 private:
  void prefetch();
  Repository& repo_;
  std::vector<Id> chunks_;
  size_t next_ = 0;
  std::future<Bytes> pending_;
  Bytes cur_;
  size_t pos_ = 0;
};

// The node at `path` ("dir/file") in a snapshot's tree; throws Error(NotFound) naming the snapshot.
Node find_snapshot_node(Repository& repo, const Snapshot& snap, const std::string& path);

}  // namespace arca
