// SHA-256 (pack names) and keyed content ids (HMAC-SHA-256 under the repository's id key).
#pragma once
#include "crypto/key.h"
#include "util/bytes.h"

namespace arca {

Id sha256(ByteView data);
Id hmac_sha256(const Key& key, ByteView data);

}  // namespace arca
