#include "storage/s3/s3_wire.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "storage/s3/xml.h"
#include "util/error.h"
#include "util/io.h"

namespace arca {
namespace {

class PayloadDigest {
 public:
  explicit PayloadDigest(bool with_md5) : sha_(EVP_MD_CTX_new()), md5_(with_md5 ? EVP_MD_CTX_new() : nullptr) {
    if (!sha_ || !EVP_DigestInit_ex(sha_.get(), EVP_sha256(), nullptr) ||
        (with_md5 && (!md5_ || !EVP_DigestInit_ex(md5_.get(), EVP_md5(), nullptr))))
      throw Error(ErrorKind::Generic, "OpenSSL digest initialisation failed");
  }
  void update(ByteView d) {
    EVP_DigestUpdate(sha_.get(), d.data(), d.size());
    if (md5_) EVP_DigestUpdate(md5_.get(), d.data(), d.size());
  }
  Digests finish() {
    uint8_t s[32], m[16];
    unsigned n = 0;
    EVP_DigestFinal_ex(sha_.get(), s, &n);
    Digests d{to_hex({s, 32}), ""};
    if (md5_) {
      EVP_DigestFinal_ex(md5_.get(), m, &n);
      d.md5_b64 = to_base64({m, 16});
    }
    return d;
  }

 private:
  struct Free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> sha_, md5_;
};

}  // namespace

std::string uri_encode(const std::string& s, bool keep_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += char(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string canonical_query(const std::map<std::string, std::string>& params) {
  std::string q;
  for (const auto& [name, value] : params) {  // std::map: sorted by name, as SigV4 requires
    if (!q.empty()) q += '&';
    q += uri_encode(name, false) + "=" + uri_encode(value, false);
  }
  return q;
}

Digests digest_of(ByteView data, bool with_md5) {
  PayloadDigest d(with_md5);
  d.update(data);
  return d.finish();
}

Digests digest_file(int fd, uint64_t offset, uint64_t length, bool with_md5, const std::string& what) {
  PayloadDigest d(with_md5);
  Bytes buf(std::min<uint64_t>(length, 1 << 20));
  uint64_t done = 0;
  while (done < length) {
    size_t k = size_t(std::min<uint64_t>(buf.size(), length - done));
    size_t got = pread_full(fd, {buf.data(), k}, off_t(offset + done), what);
    if (got != k) throw Error(ErrorKind::Io, what + " shrank while being uploaded");
    d.update({buf.data(), k});
    done += k;
  }
  return d.finish();
}

std::string body_text(const HttpResponse& r) { return std::string(r.body.begin(), r.body.end()); }

std::string error_code(const HttpResponse& r) { return xml::text(body_text(r), "Code"); }

}  // namespace arca
