#include "sources/redis/rdb_capture.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <sstream>

#include "repo/blob_writer.h"
#include "repo/publish.h"
#include "sources/common/stream_tree.h"
#include "sources/redis/rdb_parser.h"
#include "util/cancel.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/io.h"

namespace arca {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string info_value(const std::vector<std::pair<std::string, std::string>>& info, const std::string& name) {
  for (const auto& [k, v] : info)
    if (k == name) return v;
  return "";
}

// A decimal number a server sent (stoull would throw std::invalid_argument, not an arca::Error).
uint64_t server_number(const std::string& s, const std::string& what) {
  uint64_t v = 0;
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos)
    throw Error(ErrorKind::Corrupt, what + ": '" + s.substr(0, 40) + "' is not a number");
  for (char c : s) v = v * 10 + uint64_t(c - '0');
  return v;
}

// Skips the newlines a primary sends as keep-alives while it prepares the payload.
std::string next_line(RedisConn& c) {
  while (true) {
    std::string line = c.read_line();
    if (!line.empty()) return line;
  }
}

void add_file(StreamTree& tree, const std::string& path, const std::string& name, const CancelToken* cancel) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_errno("open", path, errno);
  struct stat st;
  fstat(fd.get(), &st);
  Node n;
  n.mode = st.st_mode & 07777;
  n.mtime_ns = int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  n.ctime_ns = n.mtime_ns;
  tree.begin_file(name, n);
  Bytes buf(1 << 20);
  while (true) {
    check_cancel(cancel, "Redis backup");
    ssize_t r = read(fd.get(), buf.data(), buf.size());
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw_errno("read", path, errno);
    if (r == 0) break;
    tree.write(ByteView(buf.data(), size_t(r)));
  }
  tree.end_file();
}

// Redis 7's multi-part AOF: the manifest names the files that make up the data set. A rewrite
// may replace them while we copy, so the manifest is read first and the copy retried if a file
// it names has gone. The last incremental file may end mid-command; Redis loads that
// (aof-load-truncated, on by default).
json add_aof(StreamTree& tree, const std::string& given, const CancelToken* cancel) {
  std::string dir = given;
  if (fs::is_directory(given) && fs::is_directory(fs::path(given) / "appendonlydir"))
    dir = (fs::path(given) / "appendonlydir").string();
  json files = json::array();
  if (fs::is_regular_file(dir)) {  // Redis < 7: one appendonly.aof
    add_file(tree, dir, "appendonly.aof", cancel);
    files.push_back("appendonly.aof");
    return files;
  }
  if (!fs::is_directory(dir))
    throw Error(ErrorKind::NotFound, "--aof-dir " + given + ": no such AOF directory or file");
  for (int attempt = 0; attempt < 5; attempt++) {
    std::string manifest;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".manifest") manifest = e.path().string();
    if (manifest.empty())
      throw Error(ErrorKind::NotFound, "--aof-dir " + dir + " holds no AOF manifest (*.manifest): is appendonly on?");
    Bytes m = read_whole_file(manifest);
    std::vector<std::string> names;
    std::istringstream lines(std::string(m.begin(), m.end()));
    for (std::string line; std::getline(lines, line);) {
      std::istringstream words(line);
      std::string key, value;
      while (words >> key >> value)
        if (key == "file") names.push_back(value);
    }
    bool complete = true;
    for (const auto& n : names)
      if (n.find('/') != std::string::npos || !fs::exists(fs::path(dir) / n)) complete = false;
    if (!complete) continue;  // a rewrite swapped the files: read the new manifest
    Node meta;
    meta.mode = 0755;
    tree.add_dir("appendonlydir", meta);
    std::string mname = fs::path(manifest).filename().string();
    Node mn;
    mn.mode = 0644;
    tree.begin_file("appendonlydir/" + mname, mn);
    tree.write(m);
    tree.end_file();
    files.push_back(mname);
    try {
      for (const auto& n : names) {
        add_file(tree, (fs::path(dir) / n).string(), "appendonlydir/" + n, cancel);
        files.push_back(n);
      }
      return files;
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::NotFound) throw;
      files = json::array();  // replaced during the copy: start again (later entries replace these)
    }
  }
  throw Error(ErrorKind::Conflict,
              "the AOF files in " + dir + " kept changing (rewrites) while Arca copied them; try again");
}

}  // namespace

namespace {
double steady_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
}  // namespace

RedisCaptureLink redis_start_capture(const RedisBackupOptions& opts) {
  RedisCaptureLink link;
  link.started_s = steady_s();
  link.start_time = now_rfc3339();
  link.url = RedisUrl::parse(opts.url);
  link.conn = std::make_unique<RedisConn>(link.url, opts.tls, opts.timeout_s * 1000);
  link.conn->set_cancel(opts.cancel, "Redis backup");  // the server's fork and the payload are waited for in slices
  RedisConn& conn = *link.conn;
  link.server_version = info_value(conn.info("server"), "redis_version");
  for (const auto& [db, v] : conn.info("keyspace"))
    if (auto k = v.find("keys="); k != std::string::npos)
      link.expected_keys +=
          server_number(v.substr(k + 5, v.find(',', k) - (k + 5)), "Redis at " + conn.describe() + " INFO keyspace");

  // Become a replica for one full resynchronisation. "capa eof" lets a diskless primary stream
  // the RDB without knowing its length; "rdb-only" (Redis 7) tells it not to keep a replication
  // buffer for us afterwards.
  conn.command({"REPLCONF", "capa", "eof", "capa", "psync2"}, "the replication handshake (REPLCONF)");
  conn.send({"REPLCONF", "rdb-only", "1"});
  (void)conn.read_reply();  // older servers answer with an error: harmless
  conn.send({"PSYNC", "?", "-1"});
  std::string line = next_line(conn);
  if (line[0] == '-')
    throw Error(line.find("NOPERM") != std::string::npos ? ErrorKind::Auth : ErrorKind::Generic,
                "Redis at " + conn.describe() + " refused to send a snapshot (PSYNC): " + line.substr(1) +
                    "\n  the user needs the replication permissions (+psync +replconf), and a replica must be in sync "
                    "with its own primary");
  std::string offset;
  {
    std::istringstream w(line);
    std::string word;
    w >> word >> link.replication_id >> offset;
    if (word != "+FULLRESYNC")
      throw Error(ErrorKind::Generic, "Redis at " + conn.describe() + " answered PSYNC with '" + line.substr(0, 80) +
                                          "' instead of a full resynchronisation");
    link.replication_offset = server_number(offset, "Redis at " + conn.describe() + " PSYNC");
  }
  return link;
}

Snapshot redis_finish_capture(Repository& repo, RedisCaptureLink& link, const RedisBackupOptions& opts,
                              ProgressCounters& progress) {
  RedisConn& conn = *link.conn;
  conn.set_cancel(opts.cancel, "Redis backup");
  progress.files_total = link.expected_keys;
  std::string line = next_line(conn);
  if (line[0] != '$')
    throw Error(ErrorKind::Corrupt,
                "Redis at " + conn.describe() + " sent '" + line.substr(0, 80) + "' instead of the RDB payload");
  std::string eof_mark;
  uint64_t remaining = 0;
  if (line.rfind("$EOF:", 0) == 0) {
    eof_mark = line.substr(5);
    if (eof_mark.size() != 40) throw Error(ErrorKind::Corrupt, "Redis sent a malformed end-of-payload marker");
  } else {
    remaining = server_number(line.substr(1), "Redis at " + conn.describe() + " announcing the RDB payload");
  }
  progress.set_current("dump.rdb");

  BlobWriter writer(repo);
  StreamTree tree(repo, writer, progress, opts.threads);
  Node rdb_meta;
  rdb_meta.mode = 0644;
  tree.begin_file("dump.rdb", rdb_meta);
  bool sized = eof_mark.empty();
  RdbInput in(
      [&](uint8_t* out, size_t max) -> size_t {
        if (sized) {
          if (remaining == 0) return 0;
          size_t n = conn.read_some(out, std::min<uint64_t>(max, remaining));
          remaining -= n;
          return n;
        }
        return conn.read_some(out, max);
      },
      [&](ByteView d) { tree.write(d); });
  in.set_context("the RDB stream from " + conn.describe());
  if (sized) in.set_size(remaining);  // declared lengths beyond the announced payload are refused at once
  RdbSummary summary;
  try {
    summary = parse_rdb(
        in, [&](const RdbKey&) { progress.files_done++; }, false);
  } catch (const Error& e) {
    throw Error(e.kind(), std::string(e.what()) + "\n  nothing was recorded; run the backup again");
  }
  if (sized && remaining != 0)
    throw Error(ErrorKind::Corrupt, "Redis sent " + std::to_string(remaining) + " bytes after the end of the RDB data");
  if (!sized) {
    std::string tail(reinterpret_cast<const char*>(in.leftover().data()), in.leftover().size());
    while (tail.size() < 40) {
      uint8_t b[40];
      size_t n = conn.read_some(b, 40 - tail.size());
      tail.append(reinterpret_cast<const char*>(b), n);
    }
    if (tail.compare(0, 40, eof_mark) != 0)
      throw Error(ErrorKind::Corrupt, "the RDB stream from " + conn.describe() +
                                          " did not end with its end-of-payload marker; nothing was recorded");
  }
  tree.end_file();
  json aof_files;
  if (!opts.aof_dir.empty()) {
    progress.set_current("AOF files");
    aof_files = add_aof(tree, opts.aof_dir, opts.cancel);
  }
  check_cancel(opts.cancel, "Redis backup");
  Id root = tree.finish();
  check_cancel(opts.cancel, "Redis backup");
  writer.flush();

  json dbs = json::object();
  for (const auto& [db, c] : summary.dbs) dbs[std::to_string(db)] = {{"keys", c.keys}, {"expires", c.expires}};
  Snapshot snap;
  snap.source_kind = "redis";
  snap.source_name = opts.name.empty() ? "redis-" + link.url.host + "-" + std::to_string(link.url.port) : opts.name;
  RedisUrl shown = link.url;
  shown.db = -1;
  snap.paths = {shown.describe()};
  snap.tags = opts.tags;
  snap.tree = root;
  snap.metadata = {
      {"server_version", typed_meta("string", link.server_version)},
      {"rdb_version", typed_meta("int", summary.version)},
      {"replication_id", typed_meta("string", link.replication_id)},
      {"replication_offset", typed_meta("offset", link.replication_offset)},
      {"keys", typed_meta("int", summary.keys())},
      {"key_counts", typed_meta("json", dbs)},
      {"key_types", typed_meta("json", summary.types)},
      {"functions", typed_meta("int", summary.functions)},
      {"rdb_bytes", typed_meta("int", summary.bytes)},
      {"rdb_checksummed", typed_meta("bool", summary.checksummed)},
  };
  if (!aof_files.is_null()) snap.metadata["aof_files"] = typed_meta("json", aof_files);
  if (!summary.checksummed)
    snap.warnings.push_back({"dump.rdb", "the server writes RDB files without a checksum (rdbchecksum no)"});
  snap.stats = tree.stats(writer, steady_s() - link.started_s);
  snap.stats.bytes_read = summary.bytes;
  publish_point(repo, writer, snap, {opts.host, link.start_time}, opts.cancel);
  return snap;
}

}  // namespace arca
