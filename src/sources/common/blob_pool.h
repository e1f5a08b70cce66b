// Stores data blobs on a pool of worker threads: the caller hands over a buffer and gets a
// future of its id (and its plain SHA-256), while it goes on producing the next one. For sources
// that cut their own blobs (Kafka record batches) rather than chunking a byte stream.
// A bounded queue keeps memory in check: store() blocks while the workers are behind.
#pragma once
#include <future>
#include <thread>
#include <vector>

#include "repo/blob_writer.h"
#include "repo/repository.h"
#include "util/bounded_queue.h"

namespace arca {

struct StoredBlob {
  Id id;      // keyed content id
  Id sha256;  // of the plain bytes, for checksums another program can recompute
  uint64_t size = 0;
};

class BlobPool {
 public:
  BlobPool(Repository& repo, BlobWriter& writer, unsigned threads = 0);  // 0: one per core
  ~BlobPool();
  BlobPool(const BlobPool&) = delete;
  BlobPool& operator=(const BlobPool&) = delete;

  std::shared_future<StoredBlob> store(Bytes data);

 private:
  struct Job {
    Bytes data;
    std::promise<StoredBlob> done;
  };
  void worker();
  Repository& repo_;
  BlobWriter& writer_;
  BoundedQueue<Job> queue_;
  std::vector<std::thread> workers_;
};

}  // namespace arca
