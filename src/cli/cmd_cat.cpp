#include <unistd.h>

#include <iostream>

#include "cli/commands.h"
#include "ops/error_table.h"
#include "repo/envelope.h"
#include "repo/tree_walk.h"

namespace arca {

static void write_stdout(ByteView data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(1, data.data() + done, data.size() - done);
    if (n <= 0) throw Error(ErrorKind::Io, "cannot write to standard output");
    done += size_t(n);
  }
}

static Id resolve_id(Repository& repo, const std::string& prefix, const std::string& dir) {
  if (prefix.size() == 64) return Id::from_hex(prefix);
  std::vector<std::string> hits;
  repo.backend().list(dir, [&](const ObjectInfo& o) {
    std::string name = o.name.substr(o.name.rfind('/') + 1);
    if (name.rfind(prefix, 0) == 0) hits.push_back(name);
  });
  if (hits.empty()) throw Error(ErrorKind::NotFound, "no object " + prefix + " under " + dir);
  if (hits.size() > 1) throw Error(ErrorKind::Usage, "id prefix " + prefix + " is ambiguous");
  return Id::from_hex(hits[0]);
}

// A blob or tree id from its full hex or a unique prefix (check and ls print 8 digits).
static Id blob_by_prefix(Repository& repo, const std::string& text, bool tree) {
  if (text.size() == 64) return Id::from_hex(text);
  if (text.size() < 8 || text.size() > 64 || text.find_first_not_of("0123456789abcdef") != std::string::npos)
    throw Error(ErrorKind::Usage, "'" + text + "': give the id in hex, at least its first 8 digits");
  std::vector<Id> hits;
  repo.index().for_each([&](const Id& id, const BlobLocation& loc) {
    if ((!tree || loc.type == BlobType::Tree) && id.hex().compare(0, text.size(), text) == 0) hits.push_back(id);
  });
  if (hits.empty())
    throw Error(ErrorKind::NotFound, std::string("no ") + (tree ? "tree " : "blob ") + text + " in the index");
  if (hits.size() > 1) throw Error(ErrorKind::Usage, "id prefix " + text + " is ambiguous; give more digits");
  return hits[0];
}

void register_cat(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand(
      "cat",
      "Print a repository object: config | snapshot ID | index ID | pack ID | tree ID | blob ID | file SNAPSHOT PATH\n"
      "(snapshot, index and pack take a unique prefix; tree and blob one of at least 8 digits, as check prints\n"
      "them; blob and file write raw bytes, the others JSON; secrets are never printed)");
  add_global_options(*cmd, g);
  auto args = std::make_shared<std::vector<std::string>>();
  auto filter = std::make_shared<SnapshotFilter>();
  cmd->add_option("what", *args, "Object kind followed by its id (full or unique prefix)")->required();
  add_snapshot_filter_options(*cmd, *filter);  // for 'snapshot latest' and 'file latest PATH'
  set_command(*cmd, [&g, args, filter] {
    auto& a = *args;
    auto need = [&](size_t n) {
      if (a.size() != n)
        throw Error(ErrorKind::Usage, "'arca cat " + a[0] + "' takes " + std::to_string(n - 1) + " argument(s)");
    };
    auto repo = open_repository(g);
    const std::string& kind = a[0];
    if (kind == "config") {
      need(1);
      const auto& c = repo->config();
      print_json(
          {{"format", c.format},
           {"id", c.repo_id.hex()},
           {"created", c.created},
           {"chunker",
            {{"min_size", c.chunker.min_size}, {"avg_size", c.chunker.avg_size}, {"max_size", c.chunker.max_size}}},
           {"zstd_level", c.zstd_level},
           {"data_pack_size", c.data_pack_size},
           {"meta_pack_size", c.meta_pack_size},
           {"data_key_versions", repo->keys().data_keys.size()},
           {"current_data_key_version", repo->keys().current_version()}});
    } else if (kind == "snapshot") {
      need(2);
      print_json(resolve_snapshot(*repo, a[1], *filter).to_json());
    } else if (kind == "index") {
      need(2);
      Id id = resolve_id(*repo, a[1], "index/");
      std::string name = "index/" + id.hex();
      nlohmann::json packs = nlohmann::json::array();
      for (const auto& p : decode_index_file(repo->load_object(name), name)) {
        nlohmann::json blobs = nlohmann::json::array();
        for (const auto& b : p.blobs)
          blobs.push_back(
              {{"id", b.id.hex()}, {"offset", b.offset}, {"length", b.length}, {"raw_length", b.raw_length}});
        packs.push_back(
            {{"pack", p.pack.hex()}, {"type", p.type == BlobType::Data ? "data" : "tree"}, {"blobs", blobs}});
      }
      print_json({{"packs", packs}});
    } else if (kind == "pack") {
      need(2);
      Id id;
      BlobType type = BlobType::Data;
      try {
        id = resolve_id(*repo, a[1], "data/");
      } catch (const Error&) {
        id = resolve_id(*repo, a[1], "meta/");
        type = BlobType::Tree;
      }
      std::string name = pack_name(type, id);
      Bytes data = repo->backend().get(name);
      nlohmann::json blobs = nlohmann::json::array();
      for (const auto& b : parse_pack_header(repo->keys(), data, data.size(), name))
        blobs.push_back({{"id", b.id.hex()}, {"offset", b.offset}, {"length", b.length}, {"raw_length", b.raw_length}});
      print_json({{"pack", id.hex()}, {"size", data.size()}, {"blobs", blobs}});
    } else if (kind == "tree") {
      need(2);
      Bytes t = repo->read_blob(blob_by_prefix(*repo, a[1], true));
      print_json(nlohmann::json::parse(t.begin(), t.end()));
    } else if (kind == "blob") {
      need(2);
      write_stdout(repo->read_blob(blob_by_prefix(*repo, a[1], false)));
    } else if (kind == "file") {
      need(3);
      Snapshot s = resolve_snapshot(*repo, a[1], *filter);
      std::string want = a[2];
      while (!want.empty() && want.front() == '/') want.erase(0, 1);
      bool found = false;
      walk_tree(
          *repo, s.tree,
          [&](const std::string& p, const Node& n) {
            if (p == want && n.type == NodeType::File) {
              found = true;
              for (const auto& id : n.content) write_stdout(repo->read_blob(id));
              return false;
            }
            return want.rfind(p + "/", 0) == 0;
          },
          "", "snapshot " + s.id.short_hex());
      if (!found) throw Error(ErrorKind::NotFound, "no file '" + want + "' in snapshot " + s.id.short_hex());
    } else {
      throw Error(ErrorKind::Usage, "unknown object kind '" + kind + "' (see 'arca cat --help')");
    }
    return kExitOk;
  });
}

}  // namespace arca
