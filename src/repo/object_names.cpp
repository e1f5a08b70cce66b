#include "repo/object_names.h"

#include <cstdio>

#include "repo/pack.h"
#include "repo/wal_names.h"

namespace arca::names {
namespace {

constexpr size_t kIdHex = 64;

bool is_lower_hex(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}
bool is_upper_hex(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789ABCDEF") == std::string_view::npos;
}
bool is_decimal(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

std::optional<Id> id_of(std::string_view hex) {
  if (hex.size() != kIdHex || !is_lower_hex(hex)) return std::nullopt;
  return Id::from_hex(hex);
}

// `name` without `prefix`, or nullopt if it does not start with it.
std::optional<std::string_view> after(std::string_view name, std::string_view prefix) {
  if (!name.starts_with(prefix)) return std::nullopt;
  return name.substr(prefix.size());
}

// A canonical decimal (no sign, no leading zero) that fits an int64_t.
std::optional<int64_t> step_of(std::string_view s) {
  if (!is_decimal(s) || s.size() > 18 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  int64_t v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

std::string hex8(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08X", v);
  return buf;
}

std::optional<uint32_t> from_hex8(std::string_view s) {
  if (s.size() != 8 || !is_upper_hex(s)) return std::nullopt;
  return uint32_t(std::stoul(std::string(s), nullptr, 16));
}

}  // namespace

std::string key_file(std::string_view id) { return kKeysPrefix + std::string(id); }

std::optional<std::string> parse_key_file(std::string_view name) {
  auto rest = after(name, kKeysPrefix);
  if (!rest || !id_of(*rest)) return std::nullopt;
  return std::string(*rest);
}

std::string keyring_entry(uint32_t version) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%08u", version);
  return kKeyringPrefix + buf;
}

std::optional<uint32_t> parse_keyring_entry(std::string_view name) {
  auto rest = after(name, kKeyringPrefix);
  if (!rest || rest->size() != 8 || !is_decimal(*rest)) return std::nullopt;
  return uint32_t(std::stoul(std::string(*rest)));
}

std::string snapshot(const Id& id) { return kSnapshotsPrefix + id.hex(); }

std::optional<Id> parse_snapshot(std::string_view name) {
  auto rest = after(name, kSnapshotsPrefix);
  return rest ? id_of(*rest) : std::nullopt;
}

std::string_view snapshot_id_text(std::string_view name) {
  return name.starts_with(kSnapshotsPrefix) ? name.substr(kSnapshotsPrefix.size()) : name;
}

std::string index_file(const Id& id) { return kIndexPrefix + id.hex(); }

std::optional<Id> parse_index_file(std::string_view name) {
  auto rest = after(name, kIndexPrefix);
  return rest ? id_of(*rest) : std::nullopt;
}

const std::string& pack_prefix(BlobType type) { return type == BlobType::Data ? kDataPacksPrefix : kMetaPacksPrefix; }

std::string pack(BlobType type, const Id& id) {
  std::string hex = id.hex();
  return pack_prefix(type) + hex.substr(0, 2) + "/" + hex;
}

std::optional<PackName> parse_pack(std::string_view name) {
  for (BlobType type : {BlobType::Data, BlobType::Tree}) {
    auto rest = after(name, pack_prefix(type));
    if (!rest) continue;
    // <2 hex>/<64 hex>, the directory being the id's first byte
    if (rest->size() != 3 + kIdHex || (*rest)[2] != '/') return std::nullopt;
    auto id = id_of(rest->substr(3));
    if (!id || rest->substr(0, 2) != rest->substr(3, 2)) return std::nullopt;
    return PackName{*id, type};
  }
  return std::nullopt;
}

std::string wal_system_id(uint64_t system_id) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(system_id));
  return buf;
}

std::string wal_system_prefix(uint64_t system_id) { return kWalPrefix + wal_system_id(system_id) + "/"; }

std::string wal_file(uint64_t system_id, uint32_t timeline, std::string_view file) {
  return wal_system_prefix(system_id) + hex8(timeline) + "/" + std::string(file);
}

// A directory PostgreSQL's own names (which include "<segment>.partial") can never collide with.
std::string wal_pieces_prefix(uint64_t system_id, uint32_t timeline, std::string_view segment) {
  return wal_system_prefix(system_id) + hex8(timeline) + "/pieces/" + std::string(segment) + "/";
}

std::string wal_piece(uint64_t system_id, uint32_t timeline, std::string_view segment, uint32_t offset) {
  return wal_pieces_prefix(system_id, timeline, segment) + hex8(offset);
}

std::optional<uint32_t> parse_wal_piece_offset(std::string_view name, std::string_view prefix) {
  auto rest = after(name, prefix);
  return rest ? from_hex8(*rest) : std::nullopt;
}

std::optional<WalName> parse_wal(std::string_view name) {
  auto rest = after(name, kWalPrefix);
  // <16 hex>/<8 HEX>/...
  if (!rest || rest->size() < 16 + 1 + 8 + 2 || (*rest)[16] != '/' || (*rest)[25] != '/') return std::nullopt;
  WalName w;
  w.system = std::string(rest->substr(0, 16));
  if (!is_lower_hex(w.system)) return std::nullopt;
  auto tli = from_hex8(rest->substr(17, 8));
  if (!tli) return std::nullopt;
  w.timeline = *tli;
  std::string_view file = rest->substr(26);
  constexpr std::string_view kPieces = "pieces/";
  if (file.starts_with(kPieces)) {  // pieces/<segment>/<offset>
    file.remove_prefix(kPieces.size());
    size_t slash = file.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto offset = from_hex8(file.substr(slash + 1));
    auto seg = parse_wal_file_name(std::string(file.substr(0, slash)), 16u << 20);
    if (!offset || !seg || seg->kind != WalFileName::Kind::Segment) return std::nullopt;
    w.piece = true;
    w.offset = *offset;
    w.file = std::string(file.substr(0, slash));
    return w;
  }
  // Any segment size fits the name's grammar: the timeline is all the name needs.
  auto f = parse_wal_file_name(std::string(file), 16u << 20);
  if (!f || f->timeline != w.timeline) return std::nullopt;
  w.file = std::string(file);
  return w;
}

std::string prune_mark(const Id& id) { return kPrunePrefix + id.hex(); }

std::optional<Id> parse_prune_mark(std::string_view name) {
  auto rest = after(name, kPrunePrefix);
  return rest ? id_of(*rest) : std::nullopt;
}

std::string drill_record(const Id& id) { return kDrillsPrefix + id.hex(); }

std::optional<Id> parse_drill_record(std::string_view name) {
  auto rest = after(name, kDrillsPrefix);
  return rest ? id_of(*rest) : std::nullopt;
}

std::string copied_record(const Id& snapshot) { return kCopiedPrefix + snapshot.hex(); }

std::optional<Id> parse_copied_record(std::string_view name) {
  auto rest = after(name, kCopiedPrefix);
  return rest ? id_of(*rest) : std::nullopt;
}

std::string writer_session(const Id& id) { return kWritersPrefix + id.hex(); }
std::string writer_done(std::string_view session) { return std::string(session) + ".done"; }

std::optional<WriterName> parse_writer(std::string_view name) {
  auto rest = after(name, kWritersPrefix);
  if (!rest) return std::nullopt;
  WriterName w;
  if (rest->ends_with(".done")) {
    w.done = true;
    rest->remove_suffix(5);
  }
  auto id = id_of(*rest);
  if (!id) return std::nullopt;
  w.id = *id;
  return w;
}

std::string lock(const Id& snapshot, const Id& lock) { return kLocksPrefix + snapshot.hex() + "/" + lock.hex(); }
std::string lock_release(const Id& snapshot, const Id& l) { return lock(snapshot, l) + ".release"; }

std::optional<LockName> parse_lock(std::string_view name) {
  auto rest = after(name, kLocksPrefix);
  if (!rest) return std::nullopt;
  LockName l;
  if (rest->ends_with(".release")) {
    l.release = true;
    rest->remove_suffix(8);
  }
  if (rest->size() != kIdHex + 1 + kIdHex || (*rest)[kIdHex] != '/') return std::nullopt;
  auto snap = id_of(rest->substr(0, kIdHex)), id = id_of(rest->substr(kIdHex + 1));
  if (!snap || !id) return std::nullopt;
  l.snapshot = *snap;
  l.lock = *id;
  return l;
}

std::string mfa_used(int64_t step) { return kMfaPrefix + "used-" + std::to_string(step); }
std::string mfa_claims_prefix(int64_t step) { return kMfaPrefix + "claims/" + std::to_string(step) + "/"; }
std::string mfa_claim(int64_t step, const Id& id) { return mfa_claims_prefix(step) + id.hex(); }

std::optional<MfaName> parse_mfa(std::string_view name) {
  if (name == kMfaTotp) return MfaName{};
  auto rest = after(name, kMfaPrefix);
  if (!rest) return std::nullopt;
  MfaName m;
  if (auto used = after(*rest, "used-")) {
    auto step = step_of(*used);
    if (!step) return std::nullopt;
    m.kind = MfaName::Kind::Used;
    m.step = *step;
    return m;
  }
  auto claim = after(*rest, "claims/");
  if (!claim) return std::nullopt;
  size_t slash = claim->find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto step = step_of(claim->substr(0, slash));
  auto id = id_of(claim->substr(slash + 1));
  if (!step || !id) return std::nullopt;
  m.kind = MfaName::Kind::Claim;
  m.step = *step;
  m.claim = *id;
  return m;
}

}  // namespace arca::names
