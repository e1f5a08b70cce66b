#include "sources/postgres/base_backup.h"

#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <optional>

#include "crypto/random.h"
#include "repo/blob_writer.h"
#include "repo/publish.h"
#include "repo/wal_names.h"
#include "sources/common/stream_tree.h"
#include "sources/common/tar_reader.h"
#include "sources/postgres/cluster_safety.h"
#include "sources/postgres/pg_conn.h"
#include "sources/postgres/row_counts.h"
#include "util/cancel.h"
#include "util/clock.h"
#include "util/error.h"

namespace arca {

using nlohmann::json;

namespace {

struct PgFree {
  void operator()(char* p) const { PQfreemem(p); }
};

struct Tablespace {
  std::string oid;  // empty: the main data directory
  std::string location;
  uint64_t size_kb = 0;
};

// Feeds the archives of one BASE_BACKUP into a StreamTree. The server is not trusted to send
// only what PostgreSQL sends (see docs/security.md, "PostgreSQL restores"): symlinks other than
// pg_tblspc/<oid>, and tablespace entries outside PostgreSQL's version directory, are refused.
class ArchiveSink {
 public:
  ArchiveSink(StreamTree& tree, size_t chunk, std::string server)
      : tree_(tree), chunk_(chunk), server_(std::move(server)) {}

  // `oid`: empty for the data directory, else the tablespace's (all digits).
  void begin_archive(const std::string& oid, const std::string& what) {
    if (manifest_) refuse("sent the archive " + what + " after the backup manifest");
    if (!oid.empty() && !is_tablespace_oid(oid)) refuse("sent a tablespace archive '" + what + "' not named by an OID");
    end_archive();
    prefix_ = oid.empty() ? "data/" : "tablespaces/" + oid + "/";
    in_tablespace_ = !oid.empty();
    reader_ = std::make_unique<TarReader>(
        what, TarReader::Callbacks{[this](const TarEntry& e) { entry(e); }, [this](ByteView d) { tree_.write(d); },
                                   [this] { tree_.end_file(); }});
  }
  // The manifest goes straight into the tree as it arrives, like any file: nothing of it is held
  // in memory, so an endless one costs no more than an endless data file.
  void data(ByteView d) {
    if (manifest_)
      tree_.write(d);
    else if (reader_)
      reader_->feed(d);
    else
      throw Error(ErrorKind::Corrupt, "the server sent backup data before naming an archive");
  }
  void begin_manifest() {
    if (manifest_) refuse("sent a second backup manifest");
    end_archive();
    manifest_ = true;
    Node n;
    n.mode = 0600;
    tree_.begin_file("data/backup_manifest", n, chunk_);
  }
  void end_archive() {
    if (reader_) reader_->finish();
    reader_.reset();
  }
  void finish() {
    end_archive();
    if (manifest_) tree_.end_file();
  }

 private:
  [[noreturn]] void refuse(const std::string& what) {
    throw Error(ErrorKind::Corrupt, "the server at " + server_ + " " + what +
                                        ", which PostgreSQL never does; nothing was recorded (see docs/security.md)");
  }
  void entry(const TarEntry& e) {
    if (e.path.empty() || e.path == ".") return;
    bool symlink = e.type == TarEntry::Type::Symlink;
    std::string why = refused_backup_entry(in_tablespace_, e.path, symlink);
    if (!why.empty())
      refuse("sent " + std::string(symlink ? "a symlink " : "") + prefix_ + e.path +
             (symlink ? " -> " + e.link_target : std::string()) + ": " + why);
    Node n;
    n.mode = e.mode;
    n.uid = e.uid;
    n.gid = e.gid;
    n.user = e.user;
    n.group = e.group;
    n.mtime_ns = e.mtime * 1'000'000'000;
    n.ctime_ns = n.mtime_ns;
    std::string path = prefix_ + e.path;
    switch (e.type) {
      case TarEntry::Type::Dir:
        tree_.add_dir(path, n);
        break;
      case TarEntry::Type::Symlink:
        n.link_target = e.link_target;
        tree_.add_symlink(path, n);
        break;
      case TarEntry::Type::File:
        tree_.begin_file(path, n, chunk_);
        break;
    }
  }
  StreamTree& tree_;
  size_t chunk_;
  std::string prefix_;
  std::string server_;
  std::unique_ptr<TarReader> reader_;
  bool in_tablespace_ = false;
  bool manifest_ = false;
};

std::string show(const PgConn& c, const std::string& setting) { return c.value("SHOW " + setting, "SHOW " + setting); }

uint64_t parse_size_setting(const std::string& v) {
  // wal_segment_size shows as "16MB", "1GB", …
  uint64_t n = pg_number(v.substr(0, v.find_first_not_of("0123456789")), "wal_segment_size");
  if (v.find("GB") != std::string::npos) return n << 30;
  if (v.find("MB") != std::string::npos) return n << 20;
  if (v.find("kB") != std::string::npos) return n << 10;
  return n;
}

}  // namespace

Snapshot pg_base_backup(Repository& repo, const PgBackupOptions& opts, ProgressCounters& progress) {
  auto started = std::chrono::steady_clock::now();
  std::string start_time = now_rfc3339();
  PgConn conn(opts.conninfo, PgConn::Mode::Replication);
  int version = conn.server_version();
  if (version < 100000)
    throw Error(ErrorKind::Usage, "PostgreSQL " + std::to_string(version / 10000) +
                                      " is too old: arca pg backup needs version 10 or newer");
  PgResult ident = conn.exec("IDENTIFY_SYSTEM", "IDENTIFY_SYSTEM");
  std::string system_id = PQgetvalue(ident.get(), 0, 0);
  std::string wal_level = show(conn, "wal_level");
  if (wal_level == "minimal")
    throw Error(ErrorKind::Usage, "the server at " + conn.describe() +
                                      " has wal_level = minimal: base backups and WAL archiving need wal_level = "
                                      "replica (or logical); set it in postgresql.conf and restart the server");
  uint64_t segment_size = parse_size_setting(show(conn, "wal_segment_size"));
  std::string checksums = show(conn, "data_checksums");
  std::string server_version = show(conn, "server_version");

  // Row counts are taken through normal connections; the statistics before the backup bound
  // how many rows concurrent writers may have changed (see row_counts.h).
  std::optional<RowCountSnapshot> stats_before;
  if (opts.row_counts) stats_before = capture_write_stats(opts.conninfo);

  // A temporary slot on this connection keeps the WAL the backup needs from being recycled
  // while the backup runs; it disappears with the connection.
  std::string slot = "arca_" + random_id().hex().substr(0, 12);
  conn.exec("CREATE_REPLICATION_SLOT " + slot + " TEMPORARY PHYSICAL RESERVE_WAL",
            "creating a temporary replication slot");

  std::string label = pg_quote_literal("arca base backup " + start_time);
  std::string cmd;
  if (version >= 150000) {
    // WAIT false: the WAL is in the backup, so waiting for the archiver adds nothing but time.
    cmd = "BASE_BACKUP (LABEL " + label + ", PROGRESS, WAL, WAIT false, MANIFEST 'yes', CHECKPOINT " +
          (opts.fast_checkpoint ? "'fast'" : "'spread'") + ")";
  } else {
    cmd = "BASE_BACKUP LABEL " + label + " PROGRESS WAL NOWAIT" + (opts.fast_checkpoint ? " FAST" : "") +
          (version >= 130000 ? " MANIFEST 'yes'" : "");
  }
  if (!PQsendQuery(conn.get(), cmd.c_str()))
    throw Error(ErrorKind::Io, "starting the base backup failed: " + conn.last_error());

  BlobWriter writer(repo);
  StreamTree tree(repo, writer, progress, opts.threads);
  ArchiveSink sink(tree, opts.chunk_size, conn.describe());
  std::vector<Tablespace> tablespaces;
  std::optional<std::pair<std::string, std::string>> start, stop;  // (lsn, timeline)
  size_t copies = 0;
  uint64_t received = 0;

  auto read_copy = [&](bool framed) {
    while (true) {
      char* raw = nullptr;
      int n = conn.get_copy_data(&raw, opts.cancel, "PostgreSQL backup");
      std::unique_ptr<char, PgFree> buf(raw);
      if (n == -1) break;
      if (n == -2)
        throw Error(ErrorKind::Io, "the base backup stream from " + conn.describe() + " broke: " + conn.last_error() +
                                       "\n  (did the server stop?) nothing was recorded; run the backup again");
      ByteView d(reinterpret_cast<const uint8_t*>(raw), size_t(n));
      received += d.size();
      if (!framed) {
        sink.data(d);
        continue;
      }
      if (d.empty()) continue;
      switch (d[0]) {
        case 'n': {  // new archive: name NUL location NUL
          std::string name(reinterpret_cast<const char*>(d.data() + 1),
                           strnlen(reinterpret_cast<const char*>(d.data() + 1), d.size() - 1));
          if (name == "base.tar")
            sink.begin_archive("", name);
          else if (name.size() > 4 && name.compare(name.size() - 4, 4, ".tar") == 0)
            sink.begin_archive(name.substr(0, name.size() - 4), name);
          else
            throw Error(ErrorKind::Corrupt, "the server sent an unexpected archive '" + name + "'");
          break;
        }
        case 'd':
          sink.data(d.subspan(1));
          break;
        case 'm':
          sink.begin_manifest();
          break;
        case 'p':
          break;  // progress: our own byte count is the same
        default:
          throw Error(ErrorKind::Corrupt, "unknown base backup message type '" + std::string(1, char(d[0])) + "'");
      }
    }
  };

  // Each wait (the checkpoint before the data, the stream) looks at the cancel token: a cancel
  // closes the connection, which ends the backup on the server and drops its temporary slot.
  while (true) {
    conn.await_result(opts.cancel, "PostgreSQL backup");
    PGresult* raw = PQgetResult(conn.get());
    if (!raw) break;
    PgResult r(raw);
    switch (PQresultStatus(r.get())) {
      case PGRES_TUPLES_OK: {
        if (PQfnumber(r.get(), "spcoid") >= 0) {
          uint64_t total = 0;
          for (int i = 0; i < PQntuples(r.get()); i++) {
            Tablespace t;
            if (!PQgetisnull(r.get(), i, 0)) t.oid = PQgetvalue(r.get(), i, 0);
            if (!t.oid.empty() && !is_tablespace_oid(t.oid))
              throw Error(ErrorKind::Corrupt, "the server at " + conn.describe() + " listed tablespace OID '" + t.oid +
                                                  "', which is not a number; nothing was recorded");
            if (!PQgetisnull(r.get(), i, 1)) t.location = PQgetvalue(r.get(), i, 1);
            if (PQnfields(r.get()) > 2 && !PQgetisnull(r.get(), i, 2))
              t.size_kb = pg_number(PQgetvalue(r.get(), i, 2), "the size of tablespace " + t.oid);
            total += t.size_kb * 1024;
            tablespaces.push_back(t);
          }
          progress.bytes_total = total;
          progress.totals_known = true;
        } else if (PQntuples(r.get()) > 0 && PQnfields(r.get()) >= 2) {
          auto pos = std::make_pair(std::string(PQgetvalue(r.get(), 0, 0)), std::string(PQgetvalue(r.get(), 0, 1)));
          (start ? stop : start) = pos;
        }
        break;
      }
      case PGRES_COPY_OUT:
        if (version >= 150000) {
          read_copy(true);
        } else {
          // Before 15: one tar per tablespace in the listed order, then the manifest.
          if (copies < tablespaces.size()) {
            const auto& t = tablespaces[copies];
            sink.begin_archive(t.oid, t.oid.empty() ? "base.tar" : t.oid + ".tar");
          } else {
            sink.begin_manifest();
          }
          read_copy(false);
        }
        copies++;
        break;
      case PGRES_COMMAND_OK:
        break;
      default: {
        std::string msg = PQresultErrorMessage(r.get());
        while (!msg.empty() && msg.back() == '\n') msg.pop_back();
        std::string hint;
        if (msg.find("already been removed") != std::string::npos)
          hint = "\n  the server recycled WAL the backup needs; raise wal_keep_size or max_slot_wal_keep_size";
        else if (msg.find("number of requested standby connections exceeds") != std::string::npos ||
                 msg.find("max_wal_senders") != std::string::npos)
          hint = "\n  raise max_wal_senders in postgresql.conf (a backup uses one WAL sender)";
        throw Error(ErrorKind::Generic, "the base backup failed on " + conn.describe() + ": " + msg + hint +
                                            "\n  nothing was recorded; fix the cause and run the backup again");
      }
    }
  }
  if (!start || !stop)
    throw Error(ErrorKind::Corrupt, "the server ended the base backup without its start and stop positions");
  check_cancel(opts.cancel, "PostgreSQL backup");
  sink.finish();
  Id root = tree.finish();
  check_cancel(opts.cancel, "PostgreSQL backup");
  writer.flush();
  std::string stop_time = now_rfc3339();

  json tbs = json::array();
  for (const auto& t : tablespaces)
    if (!t.oid.empty()) tbs.push_back({{"oid", t.oid}, {"location", t.location}, {"size", t.size_kb * 1024}});
  Snapshot snap;
  snap.source_kind = "postgres";
  snap.source_name = opts.name.empty() ? "postgres-" + system_id : opts.name;
  snap.paths = {conn.describe()};
  snap.tags = opts.tags;
  snap.tree = root;
  snap.metadata = {
      {"system_id", typed_meta("string", system_id)},
      {"timeline", typed_meta("int", pg_number(start->second, "the base backup's start timeline"))},
      {"stop_timeline", typed_meta("int", pg_number(stop->second, "the base backup's stop timeline"))},
      {"start_lsn", typed_meta("lsn", start->first)},
      {"stop_lsn", typed_meta("lsn", stop->first)},
      {"stop_time", typed_meta("time", stop_time)},
      {"server_version", typed_meta("string", server_version)},
      {"server_version_num", typed_meta("int", version)},
      {"wal_segment_size", typed_meta("int", segment_size)},
      {"data_checksums", typed_meta("bool", checksums == "on")},
      {"tablespaces", typed_meta("json", tbs)},
      {"wal_included", typed_meta("bool", true)},
  };
  for (const auto& n : conn.notices())  // the WAL is in the backup, so this one does not apply
    if (n.find("WAL archiving is not enabled") == std::string::npos) snap.warnings.push_back({"server", n});
  check_cancel(opts.cancel, "PostgreSQL backup");
  if (opts.row_counts) {
    try {
      json counts = capture_row_counts(opts.conninfo, *stats_before, opts.row_count_limit);
      snap.metadata["row_counts"] = typed_meta("json", counts);
    } catch (const Error& e) {
      snap.warnings.push_back({"row counts", std::string("not recorded: ") + e.what()});
    }
  }
  snap.stats = tree.stats(writer, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  snap.stats.bytes_read = received;  // tar headers included
  publish_point(repo, writer, snap, {opts.host, start_time}, opts.cancel);
  return snap;
}

}  // namespace arca
