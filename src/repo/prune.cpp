#include "repo/prune.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <nlohmann/json.hpp>

#include "crypto/random.h"
#include "repo/blob_writer.h"
#include "repo/config.h"
#include "repo/envelope.h"
#include "repo/object_names.h"
#include "repo/prune_marks.h"
#include "repo/writer_sessions.h"
#include "util/cancel.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/host.h"
#include "util/parallel_for.h"

namespace arca {

namespace {

constexpr size_t kBlobsPerIndexFile = 65536;

struct PackInfo {
  Id id;
  BlobType type = BlobType::Data;
  std::string name;
  std::vector<PackedBlob> blobs;
  std::vector<bool> keep;  // by blob: this copy is the one kept (needed, and no better copy elsewhere)
  bool indexed = false, stored = false;
  uint64_t size = 0;  // as stored
  uint64_t live_bytes = 0, total_bytes = 0;
  uint32_t live = 0;
  bool pinned = false;
  bool damaged_copy = false;  // holds a copy found damaged: repacked whatever its unused share
  const PruneMark* mark = nullptr;
  enum class Fate { Keep, Mark, Repack, Delete, Wait, Rescue } fate = Fate::Keep;
};

class Pruner {
 public:
  Pruner(Repository& repo, const PruneOptions& opts, ProgressCounters& progress)
      : repo_(repo), opts_(opts), progress_(progress), now_(time(nullptr)) {
    threads_ =
        opts.threads ? opts.threads : std::max({2u, std::thread::hardware_concurrency(), repo.backend().parallelism()});
  }

  // A cancel says what was already deleted: with --grace 0 packs may be gone for good.
  PruneStats run() {
    try {
      return run_steps();
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Cancelled) throw;
      throw Error(ErrorKind::Cancelled, cancelled_message());
    }
  }

 private:
  std::string cancelled_message() const {
    auto count = [](uint64_t n, const char* one, const char* many) {
      return std::to_string(n) + " " + (n == 1 ? one : many);
    };
    std::vector<std::string> parts;
    if (uint64_t n = packs_deleted_.load()) {
      char size[32];
      snprintf(size, sizeof size, "%.1f MiB", double(bytes_deleted_.load()) / (1024.0 * 1024.0));
      parts.push_back(count(n, "pack", "packs") + " (" + size + ")");
    }
    if (uint64_t n = index_deleted_.load()) parts.push_back(count(n, "index file", "index files"));
    if (parts.empty())
      return "prune cancelled before deleting anything; the repository is consistent, run prune again to finish";
    std::string done = parts[0];
    if (parts.size() > 1) done += " and " + parts[1];
    return "prune cancelled after deleting " + done + "; the repository is consistent, run prune again to finish";
  }

  PruneStats run_steps() {
    // Snapshots before the index: a snapshot is written after the index files it needs, so every
    // snapshot listed here finds its blobs in the index read next.
    progress_.set_current("reading recovery points");
    snaps_ = repo_.list_snapshots_strict();
    progress_.set_current("reading the index");
    load_index();
    list_packs();
    marks_ = load_prune_marks(repo_);
    for (const auto& m : marks_)
      for (const auto& name : m.packs)
        if (auto it = by_name_.find(name); it != by_name_.end()) {
          auto& p = packs_[it->second];
          if (!p.mark || p.mark->created_unix < m.created_unix) p.mark = &m;  // the later mark rules
        }
    // Until apply() nothing is changed: a cancel anywhere before it leaves the repository as it was.
    progress_.set_current("finding what recovery points need");
    check_cancel(opts_.cancel, "prune");
    mark_referenced();
    check_cancel(opts_.cancel, "prune");
    classify();
    check_cancel(opts_.cancel, "prune");
    if (!opts_.dry_run) apply();
    for (const auto& p : packs_)
      if (p.stored && p.fate != PackInfo::Fate::Delete) stats_.stored_bytes_after += p.size;
    return std::move(stats_);
  }

  void load_index() {
    repo_.backend().list(names::kIndexPrefix, [&](const ObjectInfo& o) { index_files_.push_back(o.name); });
    std::mutex mu;
    parallel_for(
        index_files_.size(), threads_,
        [&](size_t i) {
          std::vector<IndexPack> decoded;
          try {
            decoded = decode_index_file(repo_.load_object(index_files_[i]), index_files_[i]);
          } catch (const KeyVersionUnavailable& e) {
            // Its packs would look unused: deleting them would destroy data a restored keyring entry reads.
            throw KeyVersionUnavailable(e.version(),
                                        std::string(e.what()) + "; prune stopped before deleting anything");
          } catch (const Error& e) {
            if (e.kind() != ErrorKind::Corrupt) throw;
            throw Error(ErrorKind::Corrupt,
                        std::string(e.what()) + ": prune stopped before deleting anything; run 'arca repair index'");
          }
          std::lock_guard lk(mu);
          for (auto& ip : decoded) {
            std::string name = pack_name(ip.type, ip.pack);
            auto [it, fresh] = by_name_.try_emplace(name, packs_.size());
            if (!fresh) continue;  // listed by two index files
            PackInfo p;
            p.id = ip.pack;
            p.type = ip.type;
            p.name = name;
            p.blobs = std::move(ip.blobs);
            p.indexed = true;
            packs_.push_back(std::move(p));
          }
        },
        opts_.cancel, "prune");
    stats_.index_files_read = index_files_.size();
    for (const auto& p : packs_) index_.add({p.id, p.type, p.blobs});
    index_.finalize();
    referenced_.assign(index_.blob_count(), false);
    pinned_.assign(index_.blob_count(), false);
    stats_.blobs = index_.blob_count();
  }

  void list_packs() {
    for (BlobType t : {BlobType::Data, BlobType::Tree})
      repo_.backend().list(pack_dir(t), [&](const ObjectInfo& o) {
        auto parsed = names::parse_pack(o.name);
        if (!parsed) return;  // not a pack (a stray file)
        auto [it, fresh] = by_name_.try_emplace(o.name, packs_.size());
        if (fresh) {
          PackInfo p;
          p.id = parsed->id;
          p.type = t;
          p.name = o.name;
          packs_.push_back(std::move(p));
        }
        packs_[it->second].stored = true;
        packs_[it->second].size = o.size;
      });
    for (const auto& p : packs_) {
      if (p.indexed && !p.stored)
        throw Error(ErrorKind::Corrupt, "pack " + p.name + " is in the index but missing from the repository: prune " +
                                            "stopped before deleting anything; run 'arca check'");
      if (!p.indexed) stats_.unindexed_packs++;
      stats_.stored_bytes_before += p.size;
    }
    stats_.packs = packs_.size();
  }

  size_t position(const Id& blob, const Snapshot& snap) const {
    auto pos = index_.position(blob);
    if (!pos)
      throw Error(ErrorKind::Corrupt,
                  "snapshot " + snap.id.short_hex() + " needs blob " + blob.short_hex() +
                      ", which no index lists: prune stopped before deleting anything; run 'arca repair index' (it "
                      "rebuilds the index from the pack headers), then prune again");
    return *pos;
  }

  // Sets the bit of every blob below `root`; subtrees already visited are not read again, so
  // snapshots sharing most of their trees cost little more than one.
  void walk(const Snapshot& snap, std::vector<bool>& bits, std::vector<bool>& visited) {
    std::vector<Id> stack{snap.tree};
    while (!stack.empty()) {
      check_cancel(opts_.cancel, "prune");
      Id id = stack.back();
      stack.pop_back();
      size_t pos = position(id, snap);
      if (visited[pos]) continue;
      visited[pos] = true;
      bits[pos] = true;
      Tree t = decode_tree(read_any_copy(id), "tree " + id.short_hex());
      stats_.trees++;
      progress_.files_done++;
      for (const auto& n : t.nodes) {
        for (const auto& c : n.content) bits[position(c, snap)] = true;
        if (n.subtree) stack.push_back(*n.subtree);
      }
    }
  }

  // The first intact copy of a blob (concurrent backups may have stored it more than once).
  Bytes read_any_copy(const Id& id) {
    auto copies = index_.copies(id);
    for (size_t i = 0;; i++) {
      try {
        return repo_.read_blob_copy(id, copies[i]);
      } catch (const Error& e) {
        if ((e.kind() != ErrorKind::Corrupt && e.kind() != ErrorKind::NotFound) || i + 1 == copies.size()) throw;
      }
    }
  }

  void mark_referenced() {
    const auto& snaps = snaps_;
    stats_.snapshots = snaps.size();
    std::set<Id> pinned;
    for (const auto& l : opts_.locks) pinned.insert(l.snapshot);
    std::vector<bool> visited(index_.blob_count(), false);
    for (const auto& s : snaps)
      if (pinned.count(s.id)) walk(s, pinned_, visited);
    visited.assign(index_.blob_count(), false);
    for (const auto& s : snaps) walk(s, referenced_, visited);
    stats_.referenced_blobs = std::count(referenced_.begin(), referenced_.end(), true);
  }

  // A needed blob stored in several packs (concurrent backups each stored it) is kept in one:
  // the other copies count as unused, so their packs are marked or repacked like any garbage.
  // The copy kept is in an unmarked pack if there is one (the fullest, so the fewest packs are
  // repacked), else in a marked one (then rescue_uncovered() decides). Every copy in a pack of a
  // locked recovery point is kept: such packs are never repacked and may carry an Object Lock.
  // The copies of a blob stored more than once are read and authenticated first: the best intact
  // one is kept, a damaged one marks its pack for repacking, and if none is intact every copy stays.
  void choose_copies() {
    for (auto& p : packs_)
      for (const auto& b : p.blobs) p.pinned = p.pinned || pinned_[*index_.position(b.id)];
    std::vector<size_t> order(packs_.size());
    std::vector<size_t> needed(packs_.size(), 0);
    for (size_t i = 0; i < packs_.size(); i++) {
      order[i] = i;
      for (const auto& b : packs_[i].blobs) needed[i] += referenced_[*index_.position(b.id)];
    }
    std::sort(order.begin(), order.end(), [&](size_t x, size_t y) {
      const PackInfo &a = packs_[x], &b = packs_[y];
      if (a.pinned != b.pinned) return a.pinned;
      if ((a.mark == nullptr) != (b.mark == nullptr)) return a.mark == nullptr;
      if (needed[x] != needed[y]) return needed[x] > needed[y];
      return a.name < b.name;
    });
    std::vector<size_t> rank(packs_.size());
    for (size_t r = 0; r < order.size(); r++) rank[order[r]] = r;
    // Needed blobs with more than one copy: (rank, pack, blob) of each copy, best first.
    std::unordered_map<size_t, std::vector<std::array<size_t, 3>>> dups;
    {
      std::vector<uint8_t> count(index_.blob_count(), 0);
      for (const auto& p : packs_)
        for (const auto& b : p.blobs)
          if (size_t pos = *index_.position(b.id); referenced_[pos] && count[pos] < 2) count[pos]++;
      for (size_t i = 0; i < packs_.size(); i++)
        for (size_t k = 0; k < packs_[i].blobs.size(); k++)
          if (size_t pos = *index_.position(packs_[i].blobs[k].id); count[pos] > 1)
            dups[pos].push_back({rank[i], i, k});
    }
    std::vector<std::pair<size_t, std::vector<std::array<size_t, 3>>>> todo(dups.begin(), dups.end());
    dups.clear();
    std::vector<std::optional<size_t>> chosen(todo.size());  // pack holding the verified copy
    std::mutex mu;
    if (!todo.empty()) progress_.set_current("verifying the copies of duplicated blobs");
    parallel_for(todo.size(), threads_, [&](size_t j) {
      auto& cands = todo[j].second;
      std::sort(cands.begin(), cands.end());
      // Every copy is read, not only up to the first intact one: a damaged copy left in a pack
      // kept whole would stay indexed, and its pack is repacked only if prune knows of it.
      for (const auto& [r, i, k] : cands) {
        const PackInfo& p = packs_[i];
        const PackedBlob& b = p.blobs[k];
        try {
          repo_.read_blob_copy(b.id, {p.id, p.type, b.offset, b.length, b.raw_length});
          if (!chosen[j]) chosen[j] = i;
        } catch (const Error& e) {
          if (e.kind() != ErrorKind::Corrupt && e.kind() != ErrorKind::NotFound) throw;
          std::lock_guard lk(mu);
          packs_[i].damaged_copy = true;
          stats_.notes.push_back(std::string(e.what()) + "; another copy is used instead where one is intact");
        }
      }
    });
    std::unordered_map<size_t, std::optional<size_t>> dup_choice;  // blob position -> chosen pack
    for (size_t j = 0; j < todo.size(); j++) {
      dup_choice.emplace(todo[j].first, chosen[j]);
      if (!chosen[j])
        stats_.notes.push_back("every copy of blob " +
                               packs_[todo[j].second[0][1]].blobs[todo[j].second[0][2]].id.short_hex() +
                               " is damaged: all are kept (run 'arca check --read-data')");
    }
    std::vector<bool> taken(index_.blob_count(), false);
    for (size_t i : order) {
      PackInfo& p = packs_[i];
      p.keep.assign(p.blobs.size(), false);
      for (size_t k = 0; k < p.blobs.size(); k++) {
        size_t pos = *index_.position(p.blobs[k].id);
        if (!referenced_[pos]) continue;
        if (auto d = dup_choice.find(pos); d != dup_choice.end()) {
          // The verified copy; every copy if none is intact (never drop the last chance); locked packs keep theirs.
          p.keep[k] = p.pinned || !d->second || *d->second == i;
          continue;
        }
        if (taken[pos] && !p.pinned) continue;
        taken[pos] = true;
        p.keep[k] = true;
      }
    }
  }

  void classify() {
    using F = PackInfo::Fate;
    choose_copies();
    for (auto& p : packs_) {
      for (size_t k = 0; k < p.blobs.size(); k++) {
        const auto& b = p.blobs[k];
        p.total_bytes += b.length;
        if (p.keep[k]) {
          p.live++;
          p.live_bytes += b.length;
        }
      }
      bool unused = p.live == 0;  // also every unindexed pack
      if (p.mark) {
        // Due packs that still hold needed blobs are checked by rescue_uncovered().
        // The mark promised its own grace period, and this run may ask for longer; only an
        // explicit --grace 0 (no backup running) overrides the promise.
        int64_t grace = opts_.grace_s == 0 ? 0 : std::max(opts_.grace_s, p.mark->grace_s);
        p.fate = now_ < p.mark->created_unix + grace ? F::Wait : F::Delete;
      } else if (unused) {
        p.fate = F::Mark;
      } else if (!p.pinned &&
                 (p.damaged_copy || double(p.total_bytes - p.live_bytes) >= opts_.max_unused * double(p.total_bytes))) {
        p.fate = F::Repack;
      }
      // Without a grace period, what this run marks is deleted by this run.
      if (opts_.grace_s == 0 && p.fate == F::Mark) p.fate = F::Delete;
    }
    rescue_uncovered();
    tally();
  }

  // The counts again, after repack() kept damaged packs as they are.
  void retally() {
    for (uint64_t PruneStats::*f :
         {&PruneStats::marked_packs, &PruneStats::marked_bytes, &PruneStats::repacked_packs, &PruneStats::copied_blobs,
          &PruneStats::copied_bytes, &PruneStats::deleted_packs, &PruneStats::deleted_bytes, &PruneStats::waiting_packs,
          &PruneStats::waiting_bytes, &PruneStats::rescued_packs})
      stats_.*f = 0;
    tally();
  }

  // Which files of which recovery points hold the damaged blobs (at most 20 named per pack).
  void name_affected_files() {
    std::unordered_map<Id, PruneDamage*, IdHash> owner;
    for (auto& d : stats_.damaged)
      for (const auto& b : d.blobs) owner.emplace(b, &d);
    for (const auto& s : snaps_) {
      std::vector<std::pair<Id, std::string>> stack{{s.tree, ""}};
      while (!stack.empty()) {
        auto [id, path] = stack.back();
        stack.pop_back();
        Tree t;
        try {
          t = decode_tree(read_any_copy(id), "tree " + id.short_hex());
        } catch (const Error&) {
          continue;  // walked once already; a tree damaged now is check's to report
        }
        for (const auto& n : t.nodes) {
          std::string p = path.empty() ? n.name : path + "/" + n.name;
          if (n.subtree) stack.push_back({*n.subtree, p});
          for (const auto& c : n.content)
            if (auto it = owner.find(c); it != owner.end()) {
              if (it->second->affected.size() < 20)
                it->second->affected.push_back("snapshot " + s.id.short_hex() + " file '" + p + "'");
              break;
            }
        }
      }
    }
  }

  void tally() {
    using F = PackInfo::Fate;
    for (const auto& p : packs_) {
      switch (p.fate) {
        case F::Mark:
          stats_.marked_packs++, stats_.marked_bytes += p.size;
          break;
        case F::Repack:
          stats_.repacked_packs++;
          if (opts_.grace_s == 0)
            stats_.deleted_packs++, stats_.deleted_bytes += p.size;
          else
            stats_.marked_packs++, stats_.marked_bytes += p.size;
          for (size_t k = 0; k < p.blobs.size(); k++)
            if (p.keep[k]) stats_.copied_blobs++, stats_.copied_bytes += p.blobs[k].length;
          break;
        case F::Delete:
          stats_.deleted_packs++, stats_.deleted_bytes += p.size;
          break;
        case F::Wait:
          stats_.waiting_packs++, stats_.waiting_bytes += p.size;
          break;
        case F::Rescue:
          stats_.rescued_packs++;
          break;
        case F::Keep:
          break;
      }
    }
  }

  // A pack due for deletion that still holds needed blobs may go only if each of them has a copy
  // in a pack that stays (the repacked copy); otherwise a recovery point made after the mark
  // needs it, and it is rescued: kept, and taken out of the marks.
  void rescue_uncovered() {
    using F = PackInfo::Fate;
    std::unordered_set<Id, IdHash> needed;
    for (const auto& p : packs_)
      if (p.fate == F::Delete && p.live > 0)
        for (const auto& b : p.blobs)
          if (referenced_[*index_.position(b.id)]) needed.insert(b.id);
    if (needed.empty()) return;
    // Only a copy this run keeps covers (another may be damaged, or go with its own pack).
    for (const auto& p : packs_)
      if (p.indexed && p.fate != F::Delete)
        for (size_t k = 0; k < p.blobs.size(); k++)
          if (p.keep[k]) needed.erase(p.blobs[k].id);
    for (auto& p : packs_)
      if (p.fate == F::Delete && p.live > 0 &&
          std::any_of(p.blobs.begin(), p.blobs.end(), [&](const PackedBlob& b) { return needed.count(b.id) != 0; }))
        p.fate = F::Rescue;
  }

  // A cancel is honoured between steps and between items of a step, never inside one: every
  // such point leaves at most unindexed packs, duplicate index entries or stale marks, which
  // check accepts and the next run finishes (the order below is what makes that true).
  void apply() {
    using F = PackInfo::Fate;
    const CancelToken* cancel = opts_.cancel;
    repack();
    check_cancel(cancel, "prune");
    // Without a grace period the repacked originals go at once: their needed blobs are copied.
    if (opts_.grace_s == 0)
      for (auto& p : packs_)
        if (p.fate == F::Repack) p.fate = F::Delete;
    bool rewrite_index =
        std::any_of(packs_.begin(), packs_.end(), [](const PackInfo& p) { return p.indexed && p.fate == F::Delete; });
    if (rewrite_index || index_files_.size() > 64) {
      progress_.set_current("rewriting the index");
      write_index();
      check_cancel(cancel, "prune");
      parallel_for(
          index_files_.size(), threads_,
          [&](size_t i) {
            repo_.backend().remove(index_files_[i]);
            index_deleted_++;
          },
          cancel, "prune");
    }
    progress_.set_current("deleting packs");
    std::vector<const PackInfo*> doomed;
    for (const auto& p : packs_)
      if (p.fate == F::Delete) doomed.push_back(&p);
    parallel_for(
        doomed.size(), threads_,
        [&](size_t i) {
          repo_.backend().remove(doomed[i]->name);
          packs_deleted_++;
          bytes_deleted_ += doomed[i]->size;
          progress_.bytes_done += doomed[i]->size;
        },
        cancel, "prune");
    update_marks();
    // Ended sessions of append-only writers, which could not remove their registration.
    for (const auto& w : list_writers(repo_))
      if (w.done) remove_writer(repo_, w);
  }

  // Copies the needed blobs of mostly-unused packs into new packs (sealed blobs are moved as
  // they are, after authenticating them); the new packs are indexed before the old ones are marked.
  // A pack in which a needed blob fails authentication is kept as it is (neither repacked nor
  // deleted: it may still be the best there is) and reported; the others go on.
  void repack() {
    using F = PackInfo::Fate;
    std::vector<PackInfo*> todo;
    for (auto& p : packs_)
      if (p.fate == F::Repack) todo.push_back(&p);
    if (todo.empty()) return;
    progress_.set_current("repacking");
    BlobWriter writer(repo_, false);
    std::mutex mu;
    // Needed blobs are read in runs of adjacent ones of at most 4 MiB, not whole packs: memory
    // stays a few MiB per thread, and unneeded bytes are not transferred.
    constexpr uint64_t kMaxRun = 4 << 20;
    parallel_for(
        todo.size(), std::min(threads_, 4u),
        [&](size_t i) {
          const PackInfo& p = *todo[i];
          std::vector<PackedBlob> live;
          for (size_t k = 0; k < p.blobs.size(); k++)
            if (p.keep[k]) live.push_back(p.blobs[k]);
          std::sort(live.begin(), live.end(),
                    [](const PackedBlob& a, const PackedBlob& b) { return a.offset < b.offset; });
          PruneDamage damage;
          for (size_t k = 0; k < live.size();) {
            // Cancelled: the writer is dropped unflushed, its packs stay unindexed (nothing refers to them).
            check_cancel(opts_.cancel, "prune");
            size_t end = k + 1;
            uint64_t start = live[k].offset, stop = start + live[k].length;
            while (end < live.size() && live[end].offset == stop && stop + live[end].length - start <= kMaxRun)
              stop += live[end++].length;
            Bytes run = repo_.backend().get_range(p.name, start, stop - start);
            for (; k < end; k++) {
              const PackedBlob& b = live[k];
              ByteView sealed(run.data() + (b.offset - start), b.length);
              std::string what = "blob " + b.id.short_hex() + " in pack " + p.name;
              try {
                Bytes plain = unseal(repo_.keys(), sealed, what, {}, b.raw_length);  // bounded: docs/security.md
                if (plain.size() != b.raw_length || repo_.blob_id(plain) != b.id)
                  throw Error(ErrorKind::Corrupt, what + ": content does not match its id");
              } catch (const Error& e) {
                if (e.kind() != ErrorKind::Corrupt) throw;
                damage.blobs.push_back(b.id);
                continue;
              }
              // Blobs already copied from a pack found damaged later are harmless duplicates.
              if (damage.blobs.empty()) writer.copy_sealed(p.type, b.id, b.raw_length, sealed);
            }
          }
          progress_.bytes_done += p.size;
          if (damage.blobs.empty()) return;
          damage.pack = p.name;
          std::lock_guard lk(mu);
          todo[i]->fate = F::Keep;
          stats_.damaged.push_back(std::move(damage));
        },
        opts_.cancel, "prune");
    if (!stats_.damaged.empty()) {
      retally();
      name_affected_files();
    }
    check_cancel(opts_.cancel, "prune");
    writer.flush();
    stats_.index_files_written += (writer.blobs_added() > 0);
    stats_.stored_bytes_after += writer.stored_bytes();
  }

  void write_index() {
    std::vector<IndexPack> batch;
    size_t blobs = 0;
    bool pinned = false;
    auto flush = [&] {
      if (batch.empty()) return;
      std::string name = names::index_file(random_id());
      repo_.save_object(name, encode_index_file(batch));
      if (pinned) store_lock(name);
      stats_.index_files_written++;
      batch.clear();
      blobs = 0;
      pinned = false;
    };
    for (const auto& p : packs_) {
      check_cancel(opts_.cancel, "prune");  // the old index files all remain: nothing lost
      if (!p.indexed || p.fate == PackInfo::Fate::Delete) continue;
      batch.push_back({p.id, p.type, p.blobs});
      blobs += p.blobs.size();
      pinned = pinned || p.pinned;
      if (blobs >= kBlobsPerIndexFile) flush();
    }
    flush();
  }

  // An index file naming packs of locked recovery points is as needed as the packs: where the
  // store has Object Lock, it gets it (before the files it replaces are removed).
  void store_lock(const std::string& name) {
    Backend& b = repo_.backend();
    if (!b.supports_object_lock() || opts_.locks.empty()) return;
    StoreLock retention{StoreLock::Mode::Governance, 0};
    bool hold = false;
    for (const auto& l : opts_.locks) {
      if (l.mode == LockMode::LegalHold) {
        hold = true;
        continue;
      }
      if (l.mode == LockMode::Compliance) retention.mode = StoreLock::Mode::Compliance;
      retention.until_unix = std::max(retention.until_unix, l.until_unix);
    }
    try {
      if (retention.until_unix > 0) b.lock_object(name, retention);
      if (hold) b.lock_object(name, StoreLock{StoreLock::Mode::LegalHold, 0});
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Usage) throw;  // Usage: the bucket has no Object Lock
    }
  }

  // New marks first, then old marks rewritten without the packs that are gone or rescued, then
  // the old ones removed: an interruption leaves duplicate marks at worst, never a lost one.
  void update_marks() {
    using F = PackInfo::Fate;
    // The mark's clock starts when it is visible to backups, not when this run began.
    PruneMark fresh;
    fresh.created = now_rfc3339();
    fresh.created_unix = time(nullptr);
    fresh.grace_s = opts_.grace_s;
    for (const auto& p : packs_)
      if (p.fate == F::Mark || p.fate == F::Repack) fresh.packs.push_back(p.name);
    if (!fresh.packs.empty()) save_prune_mark(repo_, fresh);
    for (const auto& m : marks_) {
      PruneMark rest = m;
      rest.id = Id{};
      rest.packs.clear();
      for (const auto& name : m.packs)
        if (auto it = by_name_.find(name);
            it != by_name_.end() && packs_[it->second].fate == F::Wait && packs_[it->second].mark == &m)
          rest.packs.push_back(name);
      if (rest.packs.size() == m.packs.size()) continue;  // unchanged
      if (!rest.packs.empty()) save_prune_mark(repo_, rest);
      repo_.backend().remove(prune_mark_name(m.id));
    }
  }

  Repository& repo_;
  const PruneOptions& opts_;
  ProgressCounters& progress_;
  int64_t now_;
  unsigned threads_;
  PruneStats stats_;
  std::vector<std::string> index_files_;
  std::vector<PackInfo> packs_;
  std::unordered_map<std::string, size_t> by_name_;
  Index index_;
  std::vector<bool> referenced_, pinned_;
  std::vector<PruneMark> marks_;
  std::vector<Snapshot> snaps_;
  // What apply() has deleted so far, for the message of a cancelled prune.
  std::atomic<uint64_t> packs_deleted_{0}, bytes_deleted_{0}, index_deleted_{0};
};

const std::string kLockName(names::kPruneLock);

}  // namespace

PruneStats prune_repository(Repository& repo, const PruneOptions& opts, ProgressCounters& progress) {
  if (opts.grace_s < 0) throw Error(ErrorKind::Usage, "the grace period cannot be negative");
  if (!(opts.max_unused > 0 && opts.max_unused <= 1))
    throw Error(ErrorKind::Usage, "--max-unused must be a share above 0 and at most 1 (e.g. 0.25)");
  return Pruner(repo, opts, progress).run();
}

PruneLock::PruneLock(Repository& repo, bool exclusive) : repo_(repo) {
  nlohmann::json me = {{"host", local_hostname()},
                       {"domain", process_domain()},
                       {"pid", getpid()},
                       {"started", now_rfc3339()},
                       {"exclusive", exclusive}};
  std::string text = me.dump();
  for (int attempt = 0; attempt < 2; attempt++) {
    if (repo_.save_object_if_absent(kLockName, as_view(text))) {
      if (exclusive) {
        try {
          refuse_if_writing();
        } catch (...) {
          release();
          throw;
        }
      }
      return;
    }
    std::string holder = "unknown";
    bool alive_here = false;  // the holder is a live process we can see: unlocking would be wrong
    try {
      Bytes b = repo_.load_object(kLockName);
      auto j = nlohmann::json::parse(b.begin(), b.end());
      int pid = j.value("pid", 0);
      holder = "host " + j.value("host", "?") + ", pid " + std::to_string(pid) + ", since " + j.value("started", "?");
      bool here = j.value("domain", "") == process_domain() && pid > 0;
      // The same host, boot and pid namespace, and the process is gone: a crashed prune left it.
      if (here && kill(pid, 0) != 0 && errno == ESRCH) {
        if (attempt == 0) {
          repo_.backend().remove(kLockName);
          continue;
        }
      } else if (here) {
        alive_here = true;
      }
    } catch (const std::exception&) {}
    if (alive_here)
      throw Error(ErrorKind::Conflict, "another prune is running (" + holder + "); retry when it has ended");
    throw Error(ErrorKind::Conflict, "another prune is running (" + holder + "); if it is not, remove its lock with " +
                                         "'arca prune --unlock' and run prune again");
  }
  throw Error(ErrorKind::Conflict, "could not take the prune lock; run prune again");
}

std::optional<WriterRecord> prune_lock_holder(const Repository& repo) {
  if (!repo.backend().stat(kLockName)) return std::nullopt;
  return read_writer_record(repo, kLockName);
}

// The lock is visible before the writers are listed (a backup does the reverse), so a backup
// either is listed here or sees the lock and does not start.
void PruneLock::refuse_if_writing() {
  std::vector<std::string> running;
  for (const auto& w : list_writers(repo_)) {
    if (writer_is_stale(w))
      remove_writer(repo_, w);  // ended, or its process is gone (this host)
    else
      running.push_back(describe(w));
  }
  if (running.empty()) return;
  std::string list;
  for (size_t i = 0; i < running.size() && i < 3; i++) list += (i ? "; " : "") + running[i];
  if (running.size() > 3) list += "; and " + std::to_string(running.size() - 3) + " more";
  throw Error(ErrorKind::Conflict,
              std::to_string(running.size()) + " backup(s) are running (" + list +
                  "): --grace 0 deletes at "
                  "once and could delete data they are about to reference. Run prune with a grace period "
                  "(the default 24h is safe while backups run), or wait for them to end; if none is running "
                  "(a crashed backup on another host), 'arca unlock' removes its registration");
}

void PruneLock::release() noexcept {
  try {
    repo_.backend().remove(kLockName);
  } catch (const std::exception&) {}
}

PruneLock::~PruneLock() { release(); }

void PruneLock::force_remove(Repository& repo) { repo.backend().remove(kLockName); }

}  // namespace arca
