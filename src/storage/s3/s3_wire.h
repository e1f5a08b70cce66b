// What goes on the wire to an S3 server, shared by the backend's files: URI encoding as SigV4
// wants it, the payload digests a PUT carries, and reading an answer's error code.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "net/http_client.h"
#include "util/bytes.h"

namespace arca {

// SHA-256 of an empty payload (GET, HEAD, DELETE).
inline constexpr const char* kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// RFC 3986 percent-encoding as SigV4 wants it; '/' kept in object keys if `keep_slash`.
std::string uri_encode(const std::string& s, bool keep_slash);
// A query string in SigV4's canonical form: names sorted, names and values encoded. libcurl 7.88
// signs the query exactly as given, so every request builds its query here.
std::string canonical_query(const std::map<std::string, std::string>& params);

// SHA-256 of what a PUT sends is the signed payload hash, which the server checks against the
// body. MD5 (Content-MD5) only where the store demands it, for Object Lock writes: it costs as
// much CPU as the rest of the upload path.
struct Digests {
  std::string sha256_hex, md5_b64;  // md5_b64 empty unless asked for
};
Digests digest_of(ByteView data, bool with_md5);
Digests digest_file(int fd, uint64_t offset, uint64_t length, bool with_md5, const std::string& what);

inline bool is_2xx(long status) { return status >= 200 && status < 300; }
std::string body_text(const HttpResponse& r);
// The <Code> of an S3 error answer ("" if none).
std::string error_code(const HttpResponse& r);

}  // namespace arca
