// Writes a hostile PostgreSQL recovery point, as a compromised backed-up host could with its
// append-only key, through Arca's own code (Repository, StreamTree, save_snapshot), for
// tests/e2e/pg_hostile.sh. Usage: craft_pg REPO PASSWORD_FILE MODE VICTIM; prints the point's id.
//   auto-conf     data/postgresql.auto.conf is a symlink to VICTIM
//   signal        data/recovery.signal is a symlink to VICTIM
//   other-link    data/pg_log is a symlink to VICTIM (not pg_tblspc/<oid>)
//   unlisted-link data/pg_tblspc/16385 is a symlink to VICTIM, no such tablespace in the metadata
//   tablespace    tablespace 16384 recorded at VICTIM (a directory), its link pointing there too
//   bad-oid       tablespace OID "../../VICTIM" in the metadata
//   device        data/disk is a block device node
//   xattr         data/tool carries a file capability (security.capability)
//   owner         a plain cluster whose files the point says belong to uid 0 / "root"
//   loose-modes   tablespace 16384 (at VICTIM) and data/base with directories 0777, files 0666
//   missing-tbs   tablespace 16384 listed (at VICTIM) and linked, but no tablespaces/ tree
//   tblspc-dir    data/pg_tblspc/16384 is a directory (tablespace 16384 listed, at VICTIM)
#include <fstream>
#include <iostream>
#include <sstream>

#include "repo/blob_writer.h"
#include "repo/repository.h"
#include "sources/common/stream_tree.h"
#include "storage/backend.h"
#include "util/clock.h"
#include "util/error.h"

using namespace arca;

int main(int argc, char** argv) try {
  if (argc != 5) {
    std::cerr << "usage: craft_pg REPO PASSWORD_FILE MODE VICTIM\n";
    return 2;
  }
  std::string mode = argv[3], victim = argv[4], password;
  std::getline(std::ifstream(argv[2]), password);
  auto repo = Repository::open(open_backend(argv[1]), Credentials{password, {}});
  if (!repo->append_only()) throw Error(ErrorKind::Usage, "craft_pg: give it an append-only key (the attacker's)");

  ProgressCounters progress;
  BlobWriter writer(*repo);
  StreamTree tree(*repo, writer, progress, 1);
  auto file = [&](const std::string& path, const std::string& content, uint32_t uid = 101,
                  const std::string& user = "postgres", uint32_t mode = 0600) {
    Node n;
    n.mode = mode;
    n.uid = n.gid = uid;
    n.user = n.group = user;
    tree.begin_file(path, n, 0);
    tree.write(ByteView(reinterpret_cast<const uint8_t*>(content.data()), content.size()));
    tree.end_file();
  };
  auto link = [&](const std::string& path, const std::string& target) {
    Node n;
    n.mode = 0777;
    n.link_target = target;
    tree.add_symlink(path, n);
  };
  bool root_owned = mode == "owner";
  file("data/PG_VERSION", "16\n", root_owned ? 0 : 101, root_owned ? "root" : "postgres");
  file("data/global/pg_control", std::string(8192, 'c'));
  file("data/postgresql.conf", "# crafted\n");
  nlohmann::json tbs = nlohmann::json::array();
  if (mode == "auto-conf")
    link("data/postgresql.auto.conf", victim);
  else if (mode == "signal")
    link("data/recovery.signal", victim);
  else if (mode == "other-link")
    link("data/pg_log", victim);
  else if (mode == "unlisted-link")
    link("data/pg_tblspc/16385", victim);
  else if (mode == "tablespace") {
    link("data/pg_tblspc/16384", victim);
    file("tablespaces/16384/PG_16_202307071/5/16390", "planted by a key holder\n");
    tbs.push_back({{"oid", "16384"}, {"location", victim}, {"size", 24}});
  } else if (mode == "bad-oid") {
    file("tablespaces/16384/PG_16_202307071/5/16390", "planted\n");
    tbs.push_back({{"oid", "../../" + victim}, {"location", "/tmp/x"}, {"size", 8}});
  } else if (mode == "device") {
    Node n;
    n.type = NodeType::BlockDev;
    n.mode = 0666;
    n.rdev = (8u << 8) | 0u;       // sda
    tree.add_dir("data/disk", n);  // replaced below: StreamTree has no special-file entry
  } else if (mode == "xattr") {
    Node n;
    n.mode = 0755;
    n.xattrs = {{"security.capability", Bytes{1, 0, 0, 2, 0x80, 0, 0, 0}}};  // a file capability
    tree.begin_file("data/tool", n, 0);
    tree.end_file();
  } else if (mode == "loose-modes") {
    Node d;
    d.mode = 0777;
    tree.add_dir("data/base", d);
    tree.add_dir("tablespaces/16384", d);
    tree.add_dir("tablespaces/16384/PG_16_202307071", d);
    tree.add_dir("tablespaces/16384/PG_16_202307071/5", d);
    file("data/base/1/1259", "relation\n", 101, "postgres", 0666);
    file("tablespaces/16384/PG_16_202307071/5/16390", "relation\n", 101, "postgres", 0666);
    link("data/pg_tblspc/16384", victim);
    tbs.push_back({{"oid", "16384"}, {"location", victim}, {"size", 9}});
  } else if (mode == "missing-tbs") {
    link("data/pg_tblspc/16384", victim);
    tbs.push_back({{"oid", "16384"}, {"location", victim}, {"size", 0}});
  } else if (mode == "tblspc-dir") {
    file("data/pg_tblspc/16384/x", "planted\n");
    file("tablespaces/16384/PG_16_202307071/5/16390", "planted\n");
    tbs.push_back({{"oid", "16384"}, {"location", victim}, {"size", 8}});
  } else if (mode == "owner") {
    file("data/postgresql.auto.conf", "# Do not edit this file manually!\nwork_mem = '7MB'\n", 0, "root");
  } else {
    throw Error(ErrorKind::Usage, "craft_pg: unknown mode " + mode);
  }
  Id root = tree.finish();
  writer.flush();
  if (mode == "device") {
    // Rewrite the data tree with the node as a device (the attacker's own encoder), reading the
    // trees just stored through a fresh open (the index then lists them).
    auto fresh = Repository::open(open_backend(argv[1]), Credentials{password, {}});
    BlobWriter writer(*fresh);
    Tree r = fresh->load_tree(root);
    for (auto& top : r.nodes)
      if (top.name == "data") {
        Tree d = fresh->load_tree(*top.subtree);
        for (auto& n : d.nodes)
          if (n.name == "disk") {
            n.type = NodeType::BlockDev;
            n.subtree.reset();
            n.rdev = (8u << 8) | 0u;
          }
        Bytes enc = encode_tree(d);
        top.subtree = fresh->blob_id(enc);
        writer.add(BlobType::Tree, *top.subtree, enc);
      }
    Bytes enc = encode_tree(r);
    root = fresh->blob_id(enc);
    writer.add(BlobType::Tree, root, enc);
    writer.flush();
  }

  Snapshot s;
  s.time = now_rfc3339();
  s.host = "db1";
  s.user = "postgres";
  s.source_kind = "postgres";
  s.source_name = "pg-main";
  s.paths = {"host=db1"};
  s.tree = root;
  s.metadata = {
      {"system_id", typed_meta("string", "7300000000000000001")},
      {"timeline", typed_meta("int", 1)},
      {"stop_timeline", typed_meta("int", 1)},
      {"start_lsn", typed_meta("lsn", "0/2000028")},
      {"stop_lsn", typed_meta("lsn", "0/2000100")},
      {"stop_time", typed_meta("time", s.time)},
      {"server_version", typed_meta("string", "16.0")},
      {"server_version_num", typed_meta("int", 160000)},
      {"wal_segment_size", typed_meta("int", 16 << 20)},
      {"data_checksums", typed_meta("bool", false)},
      {"tablespaces", typed_meta("json", tbs)},
      {"wal_included", typed_meta("bool", true)},
  };
  s.program_version = "crafted";
  repo->save_snapshot(s);
  std::cout << s.id.hex() << "\n";
  return 0;
} catch (const std::exception& e) {
  std::cerr << "craft_pg: " << e.what() << "\n";
  return 1;
}
