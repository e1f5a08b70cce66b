#include "repo/point_signature.h"

#include "crypto/sign.h"
#include "util/error.h"

namespace arca {

PointSignature verify_point(const Snapshot& s, const std::map<std::string, Bytes>& public_keys) {
  auto it = public_keys.find(s.key_id);
  // Key files with a signing key sign every point: an unsigned one naming such a key is forged.
  if (s.signature.empty()) return it == public_keys.end() ? PointSignature::Unsigned : PointSignature::Bad;
  if (it == public_keys.end()) return PointSignature::KeyGone;
  if (s.signed_text.empty()) return PointSignature::Bad;
  Bytes sig;
  try {
    sig = from_base64(s.signature);
  } catch (const Error&) {
    return PointSignature::Bad;
  }
  return verify_signature(it->second, as_view(s.signed_text), sig) ? PointSignature::Verified : PointSignature::Bad;
}

const char* signature_name(PointSignature v) {
  switch (v) {
    case PointSignature::Verified:
      return "verified";
    case PointSignature::Unsigned:
      return "unsigned";
    case PointSignature::KeyGone:
      return "key removed";
    case PointSignature::Bad:
      return "bad signature";
  }
  return "?";
}

}  // namespace arca
