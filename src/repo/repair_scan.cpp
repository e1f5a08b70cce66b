#include "repo/repair_scan.h"

#include <mutex>
#include <set>

#include "repo/object_names.h"
#include "util/error.h"
#include "util/parallel_for.h"

namespace arca {

std::string without_name(const std::string& msg, const std::string& name) {
  if (msg.compare(0, name.size(), name) != 0) return msg;
  size_t i = name.size();
  while (i < msg.size() && (msg[i] == ':' || msg[i] == ' ')) i++;
  return msg.substr(i);
}

std::map<std::string, uint64_t> list_stored_packs(const Backend& backend) {
  std::map<std::string, uint64_t> out;
  for (BlobType t : {BlobType::Data, BlobType::Tree})
    backend.list(names::pack_prefix(t), [&](const ObjectInfo& o) {
      if (parse_pack_name(o.name)) out[o.name] = o.size;
    });
  return out;
}

std::vector<ScannedPack> scan_pack_headers(const Backend& backend, const Keyring& keys,
                                           const std::map<std::string, uint64_t>& packs, unsigned threads,
                                           ProgressCounters* progress) {
  std::vector<std::pair<std::string, uint64_t>> todo(packs.begin(), packs.end());
  std::vector<ScannedPack> out(todo.size());
  parallel_for(todo.size(), std::max(1u, threads), [&](size_t i) {
    const auto& [name, size] = todo[i];
    ScannedPack& s = out[i];
    s.name = name;
    auto parsed = parse_pack_name(name);
    s.pack.pack = parsed->first;
    s.pack.type = parsed->second;
    try {
      Bytes tail = read_pack_tail(backend, name, size);
      s.key_version = pack_header_key_version(tail);
      if (pack_id_of(tail, name) != s.pack.pack)
        throw Error(ErrorKind::Corrupt, "pack header does not match the pack's name");
      BlobType type;
      s.pack.blobs = parse_pack_header(keys, tail, size, name, &type);
      if (type != s.pack.type) throw Error(ErrorKind::Corrupt, "pack header type does not match its directory");
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Corrupt && e.kind() != ErrorKind::NotFound) throw;
      s.error = e.kind() == ErrorKind::NotFound ? "pack vanished while it was read" : without_name(e.what(), name);
      if (s.error.rfind("(pack header) ", 0) == 0) s.error = "pack header " + s.error.substr(14);
      s.pack.blobs.clear();
    }
    if (progress) progress->files_done++;
  });
  return out;
}

void index_packs_from_headers(const Backend& backend, const Keyring& keys, const Index& listed, Index& into,
                              const std::string& why, bool quiet_if_none, std::vector<Id>& added,
                              const std::function<void(const std::string&)>& warn) {
  std::map<std::string, uint64_t> unlisted;
  for (const auto& [name, size] : list_stored_packs(backend))
    if (!listed.has_pack(parse_pack_name(name)->first)) unlisted.emplace(name, size);
  if (unlisted.empty() && quiet_if_none) return;
  std::string msg = why;
  std::vector<std::string> unreadable;
  std::set<uint32_t> no_key;  // packs that are not damaged, only sealed with an unavailable key version
  for (auto& s : scan_pack_headers(backend, keys, unlisted, std::max(4u, backend.parallelism()))) {
    if (!s.error.empty()) {
      unreadable.push_back(s.name + ": " + s.error);
      if (s.key_version && !keys.find(*s.key_version)) no_key.insert(*s.key_version);
      continue;
    }
    into.add(s.pack);
    added.push_back(s.pack.pack);
  }
  msg += ". Read " + std::to_string(added.size()) + " pack(s) that no intact index file lists from their own headers";
  if (!unreadable.empty()) {
    msg += "; " + std::to_string(unreadable.size()) + " pack(s) with unreadable headers stay unavailable (";
    for (size_t i = 0; i < unreadable.size() && i < 3; i++) msg += (i ? "; " : "") + unreadable[i];
    msg += unreadable.size() > 3 ? "; …)" : ")";
  }
  if (!no_key.empty()) {
    std::string entries;
    for (uint32_t v : no_key) entries += (entries.empty() ? "" : ", ") + keys.unavailable_reason(v);
    warn(msg + ". " + entries +
         ": restore it first (from a copy of the repository or a backup of it); "
         "the packs sealed with it are not damaged");
    return;
  }
  warn(msg + ". Run 'arca repair index' to rebuild the index");
}

std::optional<uint32_t> sealed_key_version(ByteView sealed) {
  if (sealed.size() < 5) return std::nullopt;
  return get_u32(sealed.data() + 1);
}

}  // namespace arca
