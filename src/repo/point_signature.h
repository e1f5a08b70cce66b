// Whether a recovery point's key record is proven: its Ed25519 signature checked against the
// signing public key of the key file it names (see docs/security.md, "Future-dated recovery
// points"). Without a valid signature, `key_id` is only what the writer said.
#pragma once
#include <map>
#include <string>

#include "repo/snapshot.h"
#include "util/bytes.h"

namespace arca {

enum class PointSignature {
  Verified,  // signed by the key file `key_id` names
  Unsigned,  // no signature: points and key files made before issue 18 (naming a key that signs: Bad)
  KeyGone,   // signed, but keys/<key_id> is gone (removed) or has no signing key: cannot be checked
  Bad,       // a signature that does not verify: the key record is forged (or the object was copied)
};

// `public_keys`: key id -> signing public key (signing_public_keys()).
PointSignature verify_point(const Snapshot& s, const std::map<std::string, Bytes>& public_keys);
// "verified", "unsigned", "key removed", "bad signature".
const char* signature_name(PointSignature v);

}  // namespace arca
