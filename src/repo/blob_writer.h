// Stores new blobs for one writing session (a backup): deduplicates against the index and the
// session, seals blobs in the calling threads, groups them into data/meta packs, uploads full
// packs on a background thread, and writes an index file after every few packs so that a
// re-run after a crash reuses what was already stored. Nothing is reported durable before
// flush() has returned.
#pragma once
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "repo/pack.h"
#include "repo/repository.h"
#include "util/bounded_queue.h"

namespace arca {

class BlobWriter {
 public:
  // A backup's writer registers the session (writers/<id>, see repo/writer_sessions.h) and
  // refuses to start while a prune that deletes at once runs; prune's own repacking does not
  // register (`register_session` false).
  explicit BlobWriter(Repository& repo, bool register_session = true);
  ~BlobWriter();
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;

  // True if the repository or this session already holds (or is storing) the blob.
  bool known(const Id& id);
  // Stores the blob unless known; returns true if it was new. Thread-safe.
  bool add(BlobType type, const Id& id, ByteView plain);
  // Stores an already sealed blob again, whatever the index holds (prune's repacking moves live
  // blobs out of a pack that is to be deleted); only this session's copies are deduplicated.
  void copy_sealed(BlobType type, const Id& id, uint32_t raw_length, ByteView sealed);
  // Writes the partial packs and the remaining index entries; everything is durable afterwards.
  void flush();
  // The same, but the writer stays usable: for sessions that publish several recovery points
  // (continuous archives).
  void checkpoint();

  // Call right before publishing a recovery point that references this session's blobs: throws
  // if a blob it reused (referenced without storing) or a pack it stored is now only in packs a
  // prune marked after the session began, with that mark's grace period over or ending within
  // kReuseSafetyS, or if a pack it reused blobs from was deleted before the session registered.
  void check_publishable();
  static constexpr int64_t kReuseSafetyS = 60;

  uint64_t blobs_added() const { return blobs_added_; }
  uint64_t bytes_added() const { return bytes_added_; }
  uint64_t stored_bytes() const { return stored_bytes_; }

 private:
  struct Slot {
    std::mutex mu;
    std::unique_ptr<PackBuilder> builder;
  };
  void append(BlobType type, const Id& id, uint32_t raw_length, ByteView sealed);
  void upload_loop();
  void queue_pack(PackBuilder::Finished pack);
  void finish_partial_packs();
  void write_index(std::vector<IndexPack>& pending);
  void note_reused(const Id& id);
  void start_session();
  void check_reused_packs_exist();
  void rethrow_if_failed();

  Repository& repo_;
  const Index& index_;
  std::string staging_dir_;
  std::mutex claim_mu_;
  std::unordered_set<Id, IdHash> claimed_;
  Slot slots_[2];
  BoundedQueue<PackBuilder::Finished> queue_;
  std::vector<std::thread> uploaders_;  // backend().parallelism() of them
  std::mutex pending_mu_;
  std::vector<IndexPack> pending_;
  std::mutex error_mu_;
  std::exception_ptr error_;
  std::atomic<bool> failed_{false};
  std::mutex idle_mu_;
  std::condition_variable idle_cv_;
  size_t in_flight_ = 0;  // packs queued or being uploaded
  std::mutex reused_mu_;
  std::vector<bool> reused_;  // by index position: blobs this session referenced without storing
  std::mutex stored_mu_;
  std::unordered_set<Id, IdHash> stored_packs_;  // packs this session stored
  std::string session_;                          // writers/<id>, empty if not registered
  bool index_changed_ = false;                   // an index file read at the start was gone when the session registered
  std::atomic<uint64_t> blobs_added_{0}, bytes_added_{0}, stored_bytes_{0};
};

}  // namespace arca
