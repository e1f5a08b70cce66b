#include "ops/cat.h"

#include "repo/index.h"
#include "repo/object_names.h"
#include "repo/pack.h"
#include "repo/tree_walk.h"

namespace arca::ops {

namespace {

// An index or pack id from its full hex or a unique prefix of the names under `prefix`.
Id resolve_id(Repository& repo, const std::string& text, const std::string& prefix) {
  if (text.size() == 64) return Id::from_hex(text);
  std::vector<std::string> hits;
  repo.backend().list(prefix, [&](const ObjectInfo& o) {
    std::string name = o.name.substr(o.name.rfind('/') + 1);
    if (name.rfind(text, 0) == 0) hits.push_back(name);
  });
  if (hits.empty()) throw Error(ErrorKind::NotFound, "no object " + text + " under " + prefix);
  if (hits.size() > 1) throw Error(ErrorKind::Usage, "id prefix " + text + " is ambiguous");
  return Id::from_hex(hits[0]);
}

// A blob or tree id from its full hex or a unique prefix (check and ls print 8 digits).
Id blob_by_prefix(Repository& repo, const std::string& text, bool tree) {
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

nlohmann::json blobs_json(const std::vector<PackedBlob>& blobs) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& b : blobs)
    j.push_back({{"id", b.id.hex()}, {"offset", b.offset}, {"length", b.length}, {"raw_length", b.raw_length}});
  return j;
}

nlohmann::json config_json(const Repository& repo) {
  const auto& c = repo.config();
  return {{"format", c.format},
          {"id", c.repo_id.hex()},
          {"created", c.created},
          {"chunker",
           {{"min_size", c.chunker.min_size}, {"avg_size", c.chunker.avg_size}, {"max_size", c.chunker.max_size}}},
          {"zstd_level", c.zstd_level},
          {"data_pack_size", c.data_pack_size},
          {"meta_pack_size", c.meta_pack_size},
          {"data_key_versions", repo.keys().data_keys.size()},
          {"current_data_key_version", repo.keys().current_version()}};
}

nlohmann::json index_json(Repository& repo, const std::string& text) {
  std::string name = names::index_file(resolve_id(repo, text, names::kIndexPrefix));
  nlohmann::json packs = nlohmann::json::array();
  for (const auto& p : decode_index_file(repo.load_object(name), name)) {
    nlohmann::json blobs = nlohmann::json::array();
    for (const auto& b : p.blobs)
      blobs.push_back({{"id", b.id.hex()}, {"offset", b.offset}, {"length", b.length}, {"raw_length", b.raw_length}});
    packs.push_back({{"pack", p.pack.hex()}, {"type", p.type == BlobType::Data ? "data" : "tree"}, {"blobs", blobs}});
  }
  return {{"packs", packs}};
}

nlohmann::json pack_json(Repository& repo, const std::string& text) {
  Id id;
  BlobType type = BlobType::Data;
  try {
    id = resolve_id(repo, text, names::kDataPacksPrefix);
  } catch (const Error&) {
    id = resolve_id(repo, text, names::kMetaPacksPrefix);
    type = BlobType::Tree;
  }
  std::string name = names::pack(type, id);
  Bytes data = repo.backend().get(name);
  return {{"pack", id.hex()},
          {"size", data.size()},
          {"blobs", blobs_json(parse_pack_header(repo.keys(), data, data.size(), name))}};
}

}  // namespace

CatResult cat(Repository& repo, const CatRequest& req, JobContext& ctx) {
  const auto& a = req.what;
  if (a.empty()) throw Error(ErrorKind::Usage, "'arca cat' needs an object kind (see 'arca cat --help')");
  auto need = [&](size_t n) {
    if (a.size() != n)
      throw Error(ErrorKind::Usage, "'arca cat " + a[0] + "' takes " + std::to_string(n - 1) + " argument(s)");
  };
  CatResult r;
  auto write = [&](const Bytes& b) {
    if (req.write)
      req.write(b);
    else
      r.raw.insert(r.raw.end(), b.begin(), b.end());
  };
  const std::string& kind = a[0];
  if (kind == "config") {
    need(1);
    r.json = config_json(repo);
  } else if (kind == "snapshot") {
    need(2);
    r.json = resolve_snapshot(repo, a[1], req.filter).to_json();
  } else if (kind == "index") {
    need(2);
    r.json = index_json(repo, a[1]);
  } else if (kind == "pack") {
    need(2);
    r.json = pack_json(repo, a[1]);
  } else if (kind == "tree") {
    need(2);
    Bytes t = repo.read_blob(blob_by_prefix(repo, a[1], true));
    r.json = nlohmann::json::parse(t.begin(), t.end());
  } else if (kind == "blob") {
    need(2);
    write(repo.read_blob(blob_by_prefix(repo, a[1], false)));
  } else if (kind == "file") {
    need(3);
    Snapshot s = resolve_snapshot(repo, a[1], req.filter);
    std::string want = a[2];
    while (!want.empty() && want.front() == '/') want.erase(0, 1);
    bool found = false;
    walk_tree(
        repo, s.tree,
        [&](const std::string& p, const Node& n) {
          if (p == want && n.type == NodeType::File) {
            found = true;
            for (const auto& id : n.content) {
              ctx.cancel.check("cat");
              write(repo.read_blob(id));
            }
            return false;
          }
          return want.rfind(p + "/", 0) == 0;
        },
        "", "snapshot " + s.id.short_hex());
    if (!found) throw Error(ErrorKind::NotFound, "no file '" + want + "' in snapshot " + s.id.short_hex());
  } else {
    throw Error(ErrorKind::Usage, "unknown object kind '" + kind + "' (see 'arca cat --help')");
  }
  return r;
}

}  // namespace arca::ops
