// The tar reader as PostgreSQL's BASE_BACKUP stream reaches it: in pieces of varying size.
#include "fuzz.h"
#include "sources/common/tar_reader.h"

ARCA_FUZZ_TARGET(data, size) {
  if (size < 1) return;
  // The first byte picks the piece size, so entries and headers straddle feed() calls.
  size_t piece = size_t(data[0]) * 37 + 1;
  data++, size--;
  uint64_t total = 0;
  arca::TarReader r("fuzz.tar", {[&](const arca::TarEntry& e) { total += e.path.size() + e.link_target.size(); },
                                 [&](arca::ByteView d) { total += d.size(); }, [&] { total++; }});
  for (size_t off = 0; off < size; off += piece) r.feed(arca_fuzz::view(data + off, std::min(piece, size - off)));
  r.finish();
}
