#include "sources/postgres/wal_archive.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "repo/object_names.h"
#include "util/error.h"
#include "util/fd.h"

namespace arca {

std::optional<WalSegmentHeader> read_wal_segment_header(ByteView seg) {
  constexpr uint16_t kLongHeader = 0x0002;  // XLP_LONG_HEADER
  if (seg.size() < 40) return std::nullopt;
  auto u16 = [&](size_t o) {
    uint16_t v;
    std::memcpy(&v, seg.data() + o, 2);
    return v;
  };
  auto u32 = [&](size_t o) {
    uint32_t v;
    std::memcpy(&v, seg.data() + o, 4);
    return v;
  };
  auto u64 = [&](size_t o) {
    uint64_t v;
    std::memcpy(&v, seg.data() + o, 8);
    return v;
  };
  // Layout (host byte order, as the server wrote it): magic u16, info u16, tli u32,
  // pageaddr u64, rem_len u32, padding to 24, then sysid u64, seg_size u32, blcksz u32.
  if (!(u16(2) & kLongHeader)) return std::nullopt;
  WalSegmentHeader h;
  h.timeline = u32(4);
  h.page_address = u64(8);
  h.system_id = u64(24);
  h.segment_size = u32(32);
  if (h.segment_size == 0 || (h.segment_size & (h.segment_size - 1))) return std::nullopt;
  return h;
}

uint64_t read_system_id(const std::string& datadir) {
  std::string path = datadir + "/global/pg_control";
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  uint64_t id = 0;
  if (!fd || pread(fd.get(), &id, sizeof id, 0) != ssize_t(sizeof id))
    throw Error(ErrorKind::NotFound, "cannot read the cluster's system identifier from " + path + ": " +
                                         std::strerror(errno ? errno : EIO) +
                                         "\n  run this in the data directory (PostgreSQL runs archive and restore "
                                         "commands there) or pass --pgdata or --system-id");
  return id;
}

WalArchive::WalArchive(Repository& repo, uint64_t system_id)
    : repo_(repo), system_id_(system_id), prefix_(names::wal_system_prefix(system_id)) {}

std::string WalArchive::object_name(const std::string& file) const {
  // Any segment size is accepted here: the timeline is all the name needs.
  auto w = parse_wal_file_name(file, 16u << 20);
  if (!w) throw Error(ErrorKind::Usage, "'" + file + "' is not a WAL file name PostgreSQL archives");
  return names::wal_file(system_id_, w->timeline, file);
}

WalArchive::PushResult WalArchive::push(const std::string& file, ByteView content) {
  std::string name = object_name(file);
  if (repo_.save_object_if_absent(name, content)) return PushResult::Stored;
  // Already there: idempotent only if it is the same file.
  auto existing = fetch(file);
  if (existing && existing->size() == content.size() && std::equal(existing->begin(), existing->end(), content.begin()))
    return PushResult::AlreadyArchived;
  throw Error(ErrorKind::Refused,
              "WAL file " + file +
                  " is already archived with different content; refusing to overwrite it.\n"
                  "  Two clusters with the same system identifier (a restored copy still archiving?) may be writing to "
                  "this repository: check archive_command on every server that uses it");
}

std::optional<Bytes> WalArchive::fetch(const std::string& file, bool with_pieces) const {
  std::string name = object_name(file);
  try {
    return repo_.load_object(name);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::NotFound) throw;
  }
  if (!with_pieces) return std::nullopt;
  auto w = parse_wal_file_name(file, 16u << 20);
  if (!w || w->kind != WalFileName::Kind::Segment) return std::nullopt;
  Bytes out;
  for (const auto& [offset, piece] : pieces(file)) {
    if (offset != out.size()) break;  // only the contiguous start is usable
    Bytes b = repo_.load_object(piece);
    out.insert(out.end(), b.begin(), b.end());
  }
  if (out.empty()) return std::nullopt;
  auto h = read_wal_segment_header(out);
  if (!h) throw Error(ErrorKind::Corrupt, "the stored start of WAL segment " + file + " has no valid segment header");
  if (out.size() < h->segment_size) out.resize(h->segment_size, 0);
  return out;
}

// The timeline a segment's name carries; throws Error(Usage) for a name that is not a segment's.
static uint32_t segment_timeline(const std::string& segment) {
  auto w = parse_wal_file_name(segment, 16u << 20);
  if (!w || w->kind != WalFileName::Kind::Segment)
    throw Error(ErrorKind::Usage, "'" + segment + "' is not a WAL segment name");
  return w->timeline;
}

std::string WalArchive::pieces_prefix(const std::string& segment) const {
  return names::wal_pieces_prefix(system_id_, segment_timeline(segment), segment);
}

void WalArchive::push_piece(const std::string& segment, uint32_t offset, ByteView content) {
  std::string name = names::wal_piece(system_id_, segment_timeline(segment), segment, offset);
  std::string off = name.substr(name.rfind('/') + 1);
  if (repo_.save_object_if_absent(name, content)) return;
  // A piece at this offset from an earlier run that died before going on: fine if it holds the
  // same WAL; anything else would mix two histories in one segment.
  Bytes existing = repo_.load_object(name);
  if (existing.size() >= content.size() && std::equal(content.begin(), content.end(), existing.begin())) return;
  throw Error(ErrorKind::Refused, "WAL segment " + segment + " already has a different piece at offset " + off +
                                      " in the archive (was the server rewound or restored?); refusing to mix them");
}

std::vector<std::pair<uint32_t, std::string>> WalArchive::pieces(const std::string& segment) const {
  std::string prefix = pieces_prefix(segment);
  std::vector<std::pair<uint32_t, std::string>> out;
  repo_.backend().list(prefix, [&](const ObjectInfo& o) {
    if (auto offset = names::parse_wal_piece_offset(o.name, prefix)) out.emplace_back(*offset, o.name);
  });
  std::sort(out.begin(), out.end());
  return out;
}

void WalArchive::remove_pieces(const std::string& segment) {
  // An append-only key cannot delete: the pieces stay (readers prefer the whole segment) until
  // an operator's 'arca prune' removes them.
  if (repo_.append_only()) return;
  for (const auto& p : pieces(segment)) repo_.backend().remove(p.second);
}

std::vector<WalObject> WalArchive::list() const {
  std::vector<WalObject> out;
  repo_.backend().list(prefix_, [&](const ObjectInfo& o) {
    auto name = names::parse_wal(o.name);
    if (!name) return;  // not a WAL object (a stray file)
    WalObject w;
    w.timeline = name->timeline;
    w.piece = name->piece;
    if (name->piece) {
      w.segment = name->file;
      w.file = o.name.substr(o.name.find("/pieces/") + 1);  // pieces/<segment>/<offset>, as listed before
    } else {
      w.file = name->file;
    }
    w.stored_size = o.size;
    out.push_back(std::move(w));
  });
  std::sort(out.begin(), out.end(), [](const WalObject& a, const WalObject& b) {
    return a.timeline != b.timeline ? a.timeline < b.timeline : a.file < b.file;
  });
  return out;
}

}  // namespace arca
