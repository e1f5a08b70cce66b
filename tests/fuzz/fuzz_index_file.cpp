// An index file's plaintext (what a key holder can seal and store under index/).
#include "fuzz.h"
#include "repo/index.h"

ARCA_FUZZ_TARGET(data, size) {
  auto packs = arca::decode_index_file(arca_fuzz::view(data, size), "index/fuzz");
  arca::Index idx;
  for (const auto& p : packs) idx.add(p);
  idx.finalize();
  for (const auto& p : packs)
    for (const auto& b : p.blobs) (void)idx.copies(b.id);
}
