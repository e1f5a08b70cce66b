#include "repo/config.h"

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace arca {

using nlohmann::json;

static std::string key_b64(const Key& k) { return to_base64(k.b); }
static Key b64_key(const std::string& s) {
  Bytes raw = from_base64(s);
  if (raw.size() != 32) throw Error(ErrorKind::Corrupt, "config: key of wrong length");
  Key k;
  std::copy(raw.begin(), raw.end(), k.b.begin());
  return k;
}

Bytes RepoConfig::encode() const {
  json j = {
      {"format", format},
      {"id", repo_id.hex()},
      {"created", created},
      {"chunker", {{"min_size", chunker.min_size}, {"avg_size", chunker.avg_size}, {"max_size", chunker.max_size}}},
      {"zstd_level", zstd_level},
      {"data_pack_size", data_pack_size},
      {"meta_pack_size", meta_pack_size},
      {"id_key", key_b64(id_key)},
      {"chunker_seed", key_b64(chunker_seed)}};
  if (replica_of) j["replica_of"] = replica_of->hex();
  std::string s = j.dump();
  return Bytes(s.begin(), s.end());
}

RepoConfig RepoConfig::decode(ByteView data) {
  try {
    json j = json::parse(data.begin(), data.end());
    RepoConfig c;
    c.format = j.at("format").get<int>();
    if (c.format != kRepoFormat)
      throw Error(ErrorKind::FormatVersion, "repository format version " + std::to_string(c.format) +
                                                " is not supported by this arca (it reads version " +
                                                std::to_string(kRepoFormat) + "); use a matching arca release");
    c.repo_id = Id::from_hex(j.at("id").get<std::string>());
    c.created = j.value("created", "");
    c.chunker.min_size = j.at("chunker").at("min_size");
    c.chunker.avg_size = j.at("chunker").at("avg_size");
    c.chunker.max_size = j.at("chunker").at("max_size");
    c.zstd_level = j.at("zstd_level");
    c.data_pack_size = j.at("data_pack_size");
    c.meta_pack_size = j.at("meta_pack_size");
    c.id_key = b64_key(j.at("id_key"));
    c.chunker_seed = b64_key(j.at("chunker_seed"));
    if (j.contains("replica_of")) c.replica_of = Id::from_hex(j.at("replica_of").get<std::string>());
    return c;
  } catch (const json::exception& e) {
    throw Error(ErrorKind::Corrupt, std::string("config object is malformed: ") + e.what());
  }
}

}  // namespace arca
