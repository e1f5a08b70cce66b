// A tree blob (JSON) as restore, ls and check read it, re-encoded when it decodes.
#include "fuzz.h"
#include "repo/tree.h"

ARCA_FUZZ_TARGET(data, size) {
  arca::Tree t = arca::decode_tree(arca_fuzz::view(data, size), "tree fuzz");
  arca::Bytes enc = arca::encode_tree(t);
  (void)arca::decode_tree(enc, "tree fuzz (re-encoded)");
}
