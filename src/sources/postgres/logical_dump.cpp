#include "sources/postgres/logical_dump.h"

#include <unistd.h>

#include <chrono>
#include <cstring>

#include "repo/blob_writer.h"
#include "repo/content_reader.h"
#include "repo/publish.h"
#include "sources/common/stream_tree.h"
#include "sources/postgres/pg_conn.h"
#include "sources/postgres/pg_server.h"
#include "sources/postgres/row_counts.h"
#include "util/cancel.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/io.h"
#include "util/subprocess.h"

namespace arca {

using nlohmann::json;

Snapshot pg_dump_to_repo(Repository& repo, const PgDumpOptions& opts, ProgressCounters& progress) {
  auto started = std::chrono::steady_clock::now();
  std::string start_time = now_rfc3339();
  int version;
  std::string server_version;
  {
    PgConn c(opts.conninfo, PgConn::Mode::Normal);
    version = c.server_version();
    server_version = c.value("SHOW server_version", "SHOW server_version");
  }
  std::string pg_dump = find_pg_bin(version / 10000, opts.pg_bin) + "/pg_dump";
  std::vector<std::string> dbs = opts.databases.empty() ? pg_list_databases(opts.conninfo) : opts.databases;

  BlobWriter writer(repo);
  StreamTree tree(repo, writer, progress);
  Bytes buf(1 << 20);
  for (const auto& db : dbs) {
    auto [conninfo, password] = pg_conninfo_split_password(pg_conninfo_with(opts.conninfo, "dbname", db));
    std::vector<std::string> argv = {pg_dump, "-Fc", "-Z0", "--no-password", "-d", conninfo};
    for (const auto& s : opts.schemas) argv.insert(argv.end(), {"-n", s});
    for (const auto& t : opts.tables) argv.insert(argv.end(), {"-t", t});
    for (const auto& t : opts.exclude_tables) argv.insert(argv.end(), {"-T", t});
    std::vector<std::string> env;
    if (!password.empty()) env.push_back("PGPASSWORD=" + password);
    Subprocess p(argv, Subprocess::Stdout::Pipe, "", Subprocess::Stdin::Null, env);
    Node n;
    n.mode = 0600;
    n.mtime_ns = n.ctime_ns = int64_t(std::chrono::system_clock::now().time_since_epoch().count());
    tree.begin_file(db + ".dump", n);
    while (true) {
      await_readable(p.stdout_fd(), opts.cancel, "PostgreSQL dump");  // a cancel kills pg_dump (~Subprocess)
      ssize_t r = read(p.stdout_fd(), buf.data(), buf.size());
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) throw_errno("read", "pg_dump output", errno);
      if (r == 0) break;
      tree.write(ByteView(buf.data(), size_t(r)));
    }
    tree.end_file();
    int rc = p.wait();
    if (rc != 0)
      throw Error(ErrorKind::Generic, "pg_dump of database " + db + " failed (exit " + std::to_string(rc) +
                                          "): " + p.stderr_text() + "\n  nothing was recorded");
  }
  check_cancel(opts.cancel, "PostgreSQL dump");
  Id root = tree.finish();
  check_cancel(opts.cancel, "PostgreSQL dump");
  writer.flush();

  Snapshot snap;
  snap.source_kind = "postgres-dump";
  snap.source_name = opts.name.empty() ? "postgres-dump" : opts.name;
  snap.paths = dbs;
  snap.tags = opts.tags;
  snap.tree = root;
  snap.metadata = {{"databases", typed_meta("json", dbs)},
                   {"schemas", typed_meta("json", opts.schemas)},
                   {"tables", typed_meta("json", opts.tables)},
                   {"exclude_tables", typed_meta("json", opts.exclude_tables)},
                   {"server_version", typed_meta("string", server_version)},
                   {"server_version_num", typed_meta("int", version)},
                   {"format", typed_meta("string", "pg_dump custom (-Fc -Z0)")}};
  snap.stats = tree.stats(writer, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  publish_point(repo, writer, snap, {opts.host, start_time}, opts.cancel);
  return snap;
}

uint64_t pg_restore_logical(Repository& repo, const PgRestoreLogicalOptions& opts) {
  Snapshot snap = repo.find_snapshot(opts.snapshot);
  if (snap.source_kind != "postgres-dump")
    throw Error(ErrorKind::Usage, "snapshot " + snap.id.short_hex() + " is not a logical dump (it is " +
                                      snap.source_kind + "); 'arca pg dump' makes those");
  Tree root = repo.load_tree(snap.tree);
  const Node* file = nullptr;
  std::string names;
  for (const auto& n : root.nodes) {
    names += (names.empty() ? "" : ", ") + n.name.substr(0, n.name.size() - 5);
    if (opts.database.empty() ? root.nodes.size() == 1 : n.name == opts.database + ".dump") file = &n;
  }
  if (!file)
    throw Error(opts.database.empty() ? ErrorKind::Usage : ErrorKind::NotFound,
                (opts.database.empty() ? "the dump holds several databases"
                                       : "the dump has no database '" + opts.database + "'") +
                    ": choose one with --db (" + names + ")");
  std::unique_ptr<Subprocess> proc;
  int fd = 1;
  if (!opts.to_stdout) {
    if (opts.conninfo.empty()) throw Error(ErrorKind::Usage, "give -d CONNECTION to restore into, or --stdout");
    PgConn c(opts.conninfo, PgConn::Mode::Normal);  // fails early and clearly if unreachable
    auto [conninfo, password] = pg_conninfo_split_password(opts.conninfo);
    std::vector<std::string> argv = {find_pg_bin(c.server_version() / 10000, opts.pg_bin) + "/pg_restore",
                                     "--no-password", "-d", conninfo, "--exit-on-error"};
    if (opts.clean) argv.insert(argv.end(), {"--clean", "--if-exists"});
    if (opts.create) argv.push_back("--create");
    if (opts.single_transaction && !opts.create) argv.push_back("--single-transaction");
    for (const auto& t : opts.tables) argv.insert(argv.end(), {"-t", t});
    std::vector<std::string> env;
    if (!password.empty()) env.push_back("PGPASSWORD=" + password);
    proc = std::make_unique<Subprocess>(argv, Subprocess::Stdout::Null, "", Subprocess::Stdin::Pipe, env);
    fd = proc->stdin_fd();
  }
  uint64_t bytes = 0;
  ContentReader reader(repo, file->content);  // reads the next chunk while this one is written
  Bytes buf(1 << 20);
  while (size_t n = reader.read(buf.data(), buf.size())) {
    check_cancel(opts.cancel, "PostgreSQL logical restore");  // pg_restore is killed: its transaction rolls back
    try {
      write_all(fd, ByteView(buf.data(), n), opts.to_stdout ? "stdout" : "pg_restore's input");
    } catch (const Error&) {
      if (!proc) throw;
      break;  // pg_restore stopped reading: its own message below says why
    }
    bytes += n;
  }
  if (proc) {
    proc->close_stdin();
    int rc = proc->wait();
    if (rc != 0)
      throw Error(ErrorKind::Generic, "pg_restore failed (exit " + std::to_string(rc) + "): " + proc->stderr_text());
  }
  return bytes;
}

}  // namespace arca
