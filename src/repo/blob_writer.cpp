#include "repo/blob_writer.h"

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <unordered_set>
#include <nlohmann/json.hpp>

#include "crypto/random.h"
#include "repo/envelope.h"
#include "repo/object_names.h"
#include "repo/prune_marks.h"
#include "repo/writer_sessions.h"
#include "util/error.h"

#include <unistd.h>

namespace arca {

static constexpr size_t kPacksPerIndexFile = 8;

BlobWriter::BlobWriter(Repository& repo, bool register_session)
    : repo_(repo),
      index_(repo.index()),
      staging_dir_(repo.backend().staging_dir()),
      queue_(repo.backend().parallelism() + 3),
      reused_(index_.blob_count(), false) {
  if (register_session) start_session();
  try {
    for (unsigned i = 0; i < std::max(1u, repo.backend().parallelism()); i++)
      uploaders_.emplace_back([this] { upload_loop(); });
  } catch (...) {  // out of threads: work with those that started, or fail cleanly without any
    if (uploaders_.empty()) throw;
  }
}

BlobWriter::~BlobWriter() {
  failed_ = true;  // without flush(), the session is abandoned: drop queued packs
  queue_.close();
  for (auto& t : uploaders_) t.join();
  if (!session_.empty()) unregister_writer(repo_, session_);
}

// Registration first, then the look for a prune that deletes at once (it does the reverse), so
// that of a backup and such a prune starting together at least one sees the other and stops.
void BlobWriter::start_session() {
  session_ = register_writer(repo_);
  try {
    if (repo_.backend().stat(names::kPruneLock)) {
      std::string holder;
      bool exclusive = false;
      try {
        Bytes b = repo_.load_object(names::kPruneLock);
        auto j = nlohmann::json::parse(b.begin(), b.end());
        WriterRecord prune;
        prune.host = j.value("host", "?");
        prune.domain = j.value("domain", "");
        prune.pid = j.value("pid", 0);
        // A killed prune on this host left it: it deletes nothing any more.
        exclusive = j.value("exclusive", false) && !writer_is_stale(prune);
        holder = "host " + j.value("host", "?") + ", pid " + std::to_string(j.value("pid", 0)) + ", since " +
                 j.value("started", "?");
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::NotFound) throw;  // it ended meanwhile
      }
      if (exclusive)
        throw Error(
            ErrorKind::Conflict,
            "a prune that deletes at once (--grace 0) is running (" + holder +
                "): a backup now could lose its data. Run the backup again when it has ended; if no prune is running "
                "(it crashed on another host), 'arca unlock' removes its lock");
    }
    // The index was read before the registration: a prune that ended in between may have
    // deleted packs it names. Then check_publishable() verifies the packs that were reused.
    std::unordered_set<std::string> now;
    repo_.backend().list(names::kIndexPrefix, [&](const ObjectInfo& o) { now.insert(o.name); });
    for (const auto& f : repo_.index_files())
      if (!now.count(f)) index_changed_ = true;
  } catch (...) {
    unregister_writer(repo_, session_);
    session_.clear();
    throw;
  }
}

void BlobWriter::check_reused_packs_exist() {
  std::unordered_set<Id, IdHash> packs;
  {
    std::lock_guard lk(reused_mu_);
    size_t pos = 0;
    index_.for_each([&](const Id&, const BlobLocation& loc) {
      if (reused_[pos++]) packs.insert(loc.pack);
    });
  }
  if (packs.empty()) return;
  for (BlobType t : {BlobType::Data, BlobType::Tree})
    repo_.backend().list(pack_dir(t), [&](const ObjectInfo& o) {
      if (auto p = names::parse_pack(o.name)) packs.erase(p->id);
    });
  if (!packs.empty())
    throw Error(ErrorKind::Conflict,
                std::to_string(packs.size()) +
                    " pack(s) this session reused data from were deleted by a "
                    "prune as it started: the recovery point is not saved. Run it again (it stores that "
                    "data anew)");
}

// Blobs only in condemned packs count as absent: a prune may delete those packs once its grace
// period is over, so a new recovery point must not depend on them.
bool BlobWriter::known(const Id& id) {
  if (index_.usable(id)) {
    note_reused(id);
    return true;
  }
  std::lock_guard lk(claim_mu_);
  return claimed_.count(id) != 0;
}

bool BlobWriter::add(BlobType type, const Id& id, ByteView plain) {
  rethrow_if_failed();
  if (index_.usable(id)) {
    note_reused(id);
    return false;
  }
  {
    std::lock_guard lk(claim_mu_);
    if (!claimed_.insert(id).second) return false;
  }
  Bytes sealed = seal(repo_.keys(), repo_.keys().current_version(), plain, repo_.config().zstd_level);
  append(type, id, uint32_t(plain.size()), sealed);
  return true;
}

void BlobWriter::copy_sealed(BlobType type, const Id& id, uint32_t raw_length, ByteView sealed) {
  rethrow_if_failed();
  {
    std::lock_guard lk(claim_mu_);
    if (!claimed_.insert(id).second) return;
  }
  append(type, id, raw_length, sealed);
}

void BlobWriter::append(BlobType type, const Id& id, uint32_t raw_length, ByteView sealed) {
  blobs_added_++;
  bytes_added_ += raw_length;
  Slot& slot = slots_[size_t(type)];
  std::unique_lock lk(slot.mu);
  size_t target = type == BlobType::Data ? repo_.config().data_pack_size : repo_.config().meta_pack_size;
  if (!slot.builder)
    slot.builder = std::make_unique<PackBuilder>(type, staging_dir_ + "/pack-" + random_id().hex(),
                                                 target + repo_.config().chunker.max_size + kEnvelopeOverhead,
                                                 repo_.backend().staged_files_become_objects());
  slot.builder->add(id, raw_length, sealed);
  if (slot.builder->size() >= target) {
    auto finished = slot.builder->finish(repo_.keys());
    slot.builder.reset();
    lk.unlock();
    queue_pack(std::move(finished));
  }
}

void BlobWriter::note_reused(const Id& id) {
  size_t pos = *index_.position(id);
  std::lock_guard lk(reused_mu_);
  reused_[pos] = true;
}

// The grace period's other half (docs/repository-format.md §13): a prune may have marked packs
// after this session read the index, and it promised to keep them only until its grace period
// ends. If that is (nearly) over and a blob this session reused exists only in such packs, the
// recovery point could end up needing deleted data: it must not be published.
void BlobWriter::check_publishable() {
  // Without its registration a 'prune --grace 0' may have run meanwhile and deleted what this
  // session stored or reused (someone ran 'arca unlock --remove-all' elsewhere, or removed it).
  if (!session_.empty() && !repo_.backend().stat(session_))
    throw Error(ErrorKind::Conflict,
                "this backup's registration " + session_ +
                    " was removed while it ran (by 'arca unlock "
                    "--remove-all' on another host?): a 'prune --grace 0' may have deleted data it "
                    "needs, so the recovery point is not saved. Run the backup again");
  bool reused_any;
  {
    std::lock_guard lk(reused_mu_);
    reused_any = std::find(reused_.begin(), reused_.end(), true) != reused_.end();
  }
  if (reused_any && index_changed_) check_reused_packs_exist();
  std::vector<PruneMark> marks = load_prune_marks(repo_);
  int64_t now = time(nullptr);
  std::unordered_set<Id, IdHash> risky, marked;
  size_t own_at_risk = 0;
  for (const auto& m : marks)
    for (const auto& name : m.packs) {
      auto parsed = names::parse_pack(name);
      if (!parsed) continue;
      Id pack = parsed->id;
      marked.insert(pack);
      if (now + kReuseSafetyS < m.created_unix + m.grace_s) continue;
      std::lock_guard lk(stored_mu_);
      if (stored_packs_.count(pack))
        own_at_risk++;  // a prune marked this session's own pack
      else if (!index_.condemned(pack))
        risky.insert(pack);
    }
  // A pack this session stored was marked (no recovery point needed it yet) by a prune whose
  // grace period is over: a later prune may delete it before this point is seen.
  if (own_at_risk)
    throw Error(ErrorKind::Conflict, std::to_string(own_at_risk) +
                                         " pack(s) this session stored were marked for deletion by a "
                                         "prune whose grace period is over (or ends within " +
                                         std::to_string(kReuseSafetyS) +
                                         " s, the time allowed "
                                         "for publishing): the recovery point is not saved. Run it again, and "
                                         "give prune a --grace longer than your longest backup");
  if (!reused_any || risky.empty()) return;
  std::unordered_set<Id, IdHash> exposed;
  {
    std::lock_guard lk(reused_mu_);
    size_t pos = 0;
    index_.for_each([&](const Id& id, const BlobLocation& loc) {
      if (reused_[pos++] && risky.count(loc.pack)) exposed.insert(id);
    });
  }
  if (exposed.empty()) return;
  // A copy in a pack no mark names is safe (a repacked pack's needed blobs have one).
  std::vector<std::string> files;
  repo_.backend().list(names::kIndexPrefix, [&](const ObjectInfo& o) { files.push_back(o.name); });
  for (const auto& f : files) {
    try {
      for (const auto& ip : decode_index_file(repo_.load_object(f), f))
        if (!marked.count(ip.pack))
          for (const auto& b : ip.blobs) exposed.erase(b.id);
    } catch (const Error& e) {
      // NotFound: replaced meanwhile, its packs are in the new file. Corrupt: a damaged index
      // object (docs/security.md) vouches for no copy, so the blobs stay exposed: the safe side.
      if (e.kind() != ErrorKind::NotFound && e.kind() != ErrorKind::Corrupt) throw;
    }
  }
  if (!exposed.empty())
    throw Error(ErrorKind::Conflict,
                std::to_string(exposed.size()) +
                    " blob(s) this session reused are now only in packs a prune "
                    "marked for deletion after the session began, and that prune's grace period is over (or ends "
                    "within " +
                    std::to_string(kReuseSafetyS) +
                    " s, the time allowed for publishing): the "
                    "recovery point is not saved. Run it again (it stores that data anew), and give prune a "
                    "--grace longer than your longest backup");
}

void BlobWriter::queue_pack(PackBuilder::Finished pack) {
  {
    std::lock_guard lk(idle_mu_);
    in_flight_++;
  }
  if (!queue_.push(std::move(pack))) {
    {
      std::lock_guard lk(idle_mu_);
      in_flight_--;
    }
    rethrow_if_failed();
  }
}

void BlobWriter::upload_loop() {
  while (auto pack = queue_.pop()) {
    struct Done {  // every popped pack counts as finished, however it ends
      BlobWriter* w;
      ~Done() {
        std::lock_guard lk(w->idle_mu_);
        if (--w->in_flight_ == 0) w->idle_cv_.notify_all();
      }
    } done{this};
    try {
      if (failed_) {
        ::unlink(pack->path.c_str());
        continue;
      }
      repo_.backend().put_file(pack_name(pack->type, pack->id), pack->path);
      stored_bytes_ += pack->size;
      {
        std::lock_guard lk(stored_mu_);
        stored_packs_.insert(pack->id);
      }
      std::vector<IndexPack> batch;
      {
        std::lock_guard lk(pending_mu_);
        pending_.push_back({pack->id, pack->type, std::move(pack->blobs)});
        if (pending_.size() >= kPacksPerIndexFile) batch.swap(pending_);
      }
      if (!batch.empty()) write_index(batch);
    } catch (...) {
      std::lock_guard lk(error_mu_);
      if (!error_) error_ = std::current_exception();
      failed_ = true;
      ::unlink(pack->path.c_str());
    }
  }
}

void BlobWriter::write_index(std::vector<IndexPack>& packs) {
  Bytes plain = encode_index_file(packs);
  repo_.save_object(names::index_file(random_id()), plain);
  stored_bytes_ += plain.size();  // close enough: index files are compressed and small
}

void BlobWriter::rethrow_if_failed() {
  std::lock_guard lk(error_mu_);
  if (error_) std::rethrow_exception(error_);
}

void BlobWriter::finish_partial_packs() {
  for (int t = 0; t < 2; t++) {
    std::unique_lock lk(slots_[t].mu);
    if (slots_[t].builder && slots_[t].builder->count() > 0) {
      auto finished = slots_[t].builder->finish(repo_.keys());
      slots_[t].builder.reset();
      lk.unlock();
      queue_pack(std::move(finished));
    }
  }
}

void BlobWriter::flush() {
  finish_partial_packs();
  queue_.close();
  for (auto& t : uploaders_) t.join();
  uploaders_.clear();
  rethrow_if_failed();
  std::vector<IndexPack> batch;
  {
    std::lock_guard lk(pending_mu_);
    batch.swap(pending_);
  }
  if (!batch.empty()) write_index(batch);
}

void BlobWriter::checkpoint() {
  finish_partial_packs();
  {
    std::unique_lock lk(idle_mu_);
    idle_cv_.wait(lk, [&] { return in_flight_ == 0; });
  }
  rethrow_if_failed();
  std::vector<IndexPack> batch;
  {
    std::lock_guard lk(pending_mu_);
    batch.swap(pending_);
  }
  if (!batch.empty()) write_index(batch);
}

}  // namespace arca
