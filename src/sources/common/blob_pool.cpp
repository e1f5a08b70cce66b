#include "sources/common/blob_pool.h"

#include "crypto/hash.h"

namespace arca {

BlobPool::BlobPool(Repository& repo, BlobWriter& writer, unsigned threads) : repo_(repo), writer_(writer), queue_(8) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < threads; i++) workers_.emplace_back([this] { worker(); });
}

BlobPool::~BlobPool() {
  queue_.close();
  for (auto& t : workers_) t.join();
}

std::shared_future<StoredBlob> BlobPool::store(Bytes data) {
  Job job{std::move(data), {}};
  std::shared_future<StoredBlob> f = job.done.get_future().share();
  queue_.push(std::move(job));
  return f;
}

void BlobPool::worker() {
  while (auto job = queue_.pop()) {
    try {
      StoredBlob b{repo_.blob_id(job->data), sha256(job->data), job->data.size()};
      writer_.add(BlobType::Data, b.id, job->data);
      job->done.set_value(b);
    } catch (...) {
      job->done.set_exception(std::current_exception());
    }
  }
}

}  // namespace arca
