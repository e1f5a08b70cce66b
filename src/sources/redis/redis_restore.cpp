#include "sources/redis/redis_restore.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <deque>
#include <filesystem>

#include "repo/config.h"
#include "repo/content_reader.h"
#include "repo/source_snapshot.h"
#include "util/cancel.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/fd.h"

namespace arca {

Snapshot find_redis_snapshot(Repository& repo, const std::string& ref, const std::string& source) {
  return find_source_snapshot(repo, ref, "redis", source, "arca redis backup");
}

namespace {

// The data set is the server's secrets (sessions, tokens…): owner-only, whatever mode the
// point recorded (Redis writes dump.rdb 0644 under its usual umask). See docs/security.md.
void restrict_one(const std::filesystem::path& p, bool dir) {
  UniqueFd fd(::open(p.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | (dir ? O_DIRECTORY : 0)));
  if (!fd) return;  // not restored (a reported error) or a symlink: nothing to tighten
  struct stat st;
  if (fstat(fd.get(), &st) != 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) return;
  mode_t want = st.st_mode & (S_ISDIR(st.st_mode) ? 0700 : 0600);
  if ((st.st_mode & 07777) != want && fchmod(fd.get(), want) != 0) throw_errno("chmod", p.string(), errno);
}

void restrict_to_owner(const std::string& to, const Tree& top) {
  for (const auto& n : top.nodes) {
    auto path = std::filesystem::path(to) / n.name;
    if (n.type == NodeType::File) restrict_one(path, false);
    std::error_code ec;
    if (n.type != NodeType::Dir ||
        std::filesystem::symlink_status(path, ec).type() != std::filesystem::file_type::directory)
      continue;
    restrict_one(path, true);  // appendonlydir/: its files too
    for (const auto& e : std::filesystem::directory_iterator(path, ec))
      if (e.is_regular_file(ec) && !e.is_symlink(ec)) restrict_one(e.path(), false);
  }
}

}  // namespace

RestoreResult redis_restore_files(Repository& repo, const Snapshot& snap, const std::string& to, bool force,
                                  ProgressCounters& progress, const CancelToken* cancel) {
  Tree top = repo.load_tree(snap.tree);
  if (!force)
    for (const auto& n : top.nodes) {
      std::error_code ec;
      auto path = std::filesystem::path(to) / n.name;
      if (std::filesystem::symlink_status(path, ec).type() != std::filesystem::file_type::not_found)
        throw Error(ErrorKind::Refused, path.string() +
                                            " exists (a server's data?): not overwritten; stop the server "
                                            "and move it away, restore into another --to directory, or "
                                            "pass --force to replace it");
    }
  RestoreOptions ro;
  ro.target = to;
  if (cancel) ro.cancel = &cancel->flag();
  RestoreResult r = restore_files(repo, snap, ro, progress);
  restrict_to_owner(to, top);
  // Unfinished files are gone (the restore removes them); what is complete is said, and nothing
  // may start a server on a partial data set.
  if (r.interrupted)
    throw Error(ErrorKind::Cancelled, "Redis restore cancelled: " + std::to_string(r.files) +
                                          " of the point's files (" + std::to_string(r.bytes_written) +
                                          " bytes) written to " + to +
                                          "; run the restore again with --force to complete it");
  // A time of 0 means none was stored: the point's time says when the data is from.
  auto when = parse_time(snap.time);
  if (when)
    for (const auto& n : top.nodes) {
      if (n.type != NodeType::File || n.mtime_ns != 0) continue;
      timespec ts[2];
      ts[0].tv_sec = ts[1].tv_sec = time_t(*when);
      ts[0].tv_nsec = ts[1].tv_nsec = 0;
      utimensat(AT_FDCWD, (std::filesystem::path(to) / n.name).c_str(), ts, AT_SYMLINK_NOFOLLOW);
    }
  return r;
}

RdbSummary parse_snapshot_rdb(Repository& repo, const Snapshot& snap, const std::function<void(const RdbKey&)>& on_key,
                              bool want_values, const std::function<void(ByteView)>& tee) {
  Node rdb = find_snapshot_node(repo, snap, "dump.rdb");
  ContentReader reader(repo, rdb.content);
  RdbInput in([&](uint8_t* out, size_t max) { return reader.read(out, max); }, tee);
  in.set_context("dump.rdb of recovery point " + snap.id.short_hex());
  return parse_rdb(in, on_key, want_values);
}

std::map<uint32_t, uint64_t> recorded_key_counts(const Snapshot& snap) {
  std::map<uint32_t, uint64_t> out;
  if (!snap.metadata.contains("key_counts")) return out;
  for (const auto& [db, c] : snap.metadata["key_counts"]["value"].items()) out[uint32_t(std::stoul(db))] = c["keys"];
  return out;
}

RedisLoadResult redis_load_into(Repository& repo, const Snapshot& snap, const RedisLoadOptions& opts,
                                ProgressCounters& progress) {
  auto started = std::chrono::steady_clock::now();
  RedisUrl url = RedisUrl::parse(opts.url);
  auto counts = recorded_key_counts(snap);
  if (url.db >= 0 && opts.source_db < 0 && counts.size() > 1) {
    std::string list;
    for (const auto& [db, n] : counts) list += (list.empty() ? "" : ", ") + std::to_string(db);
    throw Error(ErrorKind::Usage, "the recovery point holds keys in databases " + list +
                                      " and the --into URL names one database: choose the source with --db N, or "
                                      "leave the database out of the URL to restore each into its own");
  }
  uint64_t total = 0;
  for (const auto& [db, n] : counts)
    if (opts.source_db < 0 || int(db) == opts.source_db) total += n;
  progress.files_total = total;
  progress.totals_known = true;

  RedisConn conn(url, opts.tls);
  conn.set_cancel(opts.cancel, "Redis restore");
  int rdb_version = snap.metadata.value("rdb_version", nlohmann::json::object()).value("value", 0);
  RedisLoadResult res;
  struct Pending {
    bool select;
    std::string key;
  };
  std::deque<Pending> pending;
  int64_t current_db = -1;
  auto drain = [&](size_t keep) {
    while (pending.size() > keep) {
      Pending p = std::move(pending.front());
      pending.pop_front();
      RedisReply r = conn.read_reply();
      if (!r.is_error()) {
        if (!p.select) res.restored++;
        continue;
      }
      if (!p.select && r.str.rfind("BUSYKEY", 0) == 0) {
        res.kept_existing++;
        continue;
      }
      if (p.select)
        throw Error(ErrorKind::Usage, "Redis at " + conn.describe() + " refused SELECT: " + r.str +
                                          " (the target has fewer databases; choose one in the --into URL)");
      throw Error(
          r.str.rfind("NOPERM", 0) == 0 ? ErrorKind::Auth : ErrorKind::Generic,
          "Redis at " + conn.describe() + " refused to RESTORE key '" + p.key + "': " + r.str +
              (r.str.find("payload version") != std::string::npos || r.str.find("DUMP payload") != std::string::npos
                   ? "\n  the target server is older than the one backed up (RDB version " +
                         std::to_string(rdb_version) + "); restore with --to and use a matching redis-server"
                   : ""));
    }
  };
  RdbSummary summary = parse_snapshot_rdb(
      repo, snap,
      [&](const RdbKey& k) {
        if (cancel_requested(opts.cancel))
          throw Error(ErrorKind::Cancelled, "Redis restore cancelled: " + std::to_string(res.restored) +
                                                " keys restored into " + conn.describe() +
                                                " so far (they stay; run the restore again with --replace to finish)");
        if (opts.source_db >= 0 && int(k.db) != opts.source_db) return;
        progress.files_done++;
        if (!opts.match.empty() && fnmatch(opts.match.c_str(), k.key.c_str(), 0) != 0) {
          res.filtered++;
          return;
        }
        int64_t now_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        if (k.expire_ms >= 0 && k.expire_ms <= now_ms) {
          res.expired++;
          return;
        }
        int64_t db = url.db >= 0 ? url.db : int64_t(k.db);
        if (db != current_db) {
          conn.send({"SELECT", std::to_string(db)});
          pending.push_back({true, ""});
          current_db = db;
        }
        Bytes payload = rdb_restore_payload(k.type, *k.value, rdb_version);
        std::vector<std::string> cmd = {"RESTORE", k.key, std::to_string(k.expire_ms >= 0 ? k.expire_ms : 0),
                                        std::string(payload.begin(), payload.end())};
        if (opts.replace) cmd.push_back("REPLACE");
        if (k.expire_ms >= 0) cmd.push_back("ABSTTL");
        conn.send(cmd);
        pending.push_back({false, k.key});
        if (pending.size() >= 2 * opts.pipeline) drain(opts.pipeline);
      },
      true, [&](ByteView d) { progress.bytes_done += d.size(); });
  drain(0);
  res.rdb_bytes = summary.bytes;
  res.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return res;
}

}  // namespace arca
