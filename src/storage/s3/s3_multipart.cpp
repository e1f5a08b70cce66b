// Multipart upload of one large object: start, send the parts from the file, complete — or
// abort, so that a failed upload leaves no parts behind (a killed process cannot; see
// docs/storage-s3.md for the bucket lifecycle rule that covers it).
#include "storage/s3/s3_backend.h"
#include "storage/s3/s3_wire.h"
#include "storage/s3/xml.h"
#include "util/error.h"

namespace arca {

void S3Backend::put_multipart(const std::string& name, int fd, uint64_t size) {
  std::string key = opts_.prefix + name;
  std::string what = "multipart upload of " + key;
  HttpRequest init{.method = "POST", .url = url(key, {{"uploads", ""}}), .headers = base_headers(kEmptySha256)};
  auto oh = object_headers();
  init.headers.insert(init.headers.end(), oh.begin(), oh.end());
  auto s = send(init, what + " (start)");
  if (!is_2xx(s.resp.status)) fail(s.resp, what + " (start)");
  std::string upload_id = xml::text(body_text(s.resp), "UploadId");
  if (upload_id.empty()) throw Error(ErrorKind::Io, what + ": the server returned no UploadId");
  try {
    std::string complete = "<CompleteMultipartUpload>";
    unsigned part = 1;
    for (uint64_t off = 0; off < size; off += opts_.part_size, part++) {
      uint64_t len = std::min<uint64_t>(opts_.part_size, size - off);
      Body b{
          .fd = fd, .offset = off, .length = len, .digests = digest_file(fd, off, len, !opts_.lock_mode.empty(), key)};
      HttpRequest req{.method = "PUT",
                      .url = url(key, {{"partNumber", std::to_string(part)}, {"uploadId", upload_id}}),
                      .headers = base_headers(b.digests.sha256_hex)};
      if (!b.digests.md5_b64.empty()) req.headers.push_back("Content-MD5: " + b.digests.md5_b64);
      b.attach(req);
      std::string pwhat = what + " (part " + std::to_string(part) + ")";
      auto ps = send(req, pwhat);
      if (!is_2xx(ps.resp.status)) fail(ps.resp, pwhat);
      std::string etag = ps.resp.header("etag");
      if (etag.empty()) throw Error(ErrorKind::Io, pwhat + ": the server returned no ETag");
      complete +=
          "<Part><PartNumber>" + std::to_string(part) + "</PartNumber><ETag>" + xml::escape(etag) + "</ETag></Part>";
    }
    complete += "</CompleteMultipartUpload>";
    HttpRequest fin{.method = "POST",
                    .url = url(key, {{"uploadId", upload_id}}),
                    .headers = base_headers(digest_of(as_view(complete), false).sha256_hex)};
    fin.body = as_view(complete);
    auto fs = send(fin, what + " (complete)");
    std::string fbody = body_text(fs.resp);
    // A 200 can still carry an error; a lost answer to a completed upload shows as NoSuchUpload.
    bool done = is_2xx(fs.resp.status) && xml::elements(fbody, "Error").empty();
    if (!done && fs.ambiguous && xml::text(fbody, "Code") == "NoSuchUpload") {
      auto info = stat(name);
      done = info && info->size == size;
    }
    if (!done) fail(fs.resp, what + " (complete)");
  } catch (...) {
    // Abandoned parts cost storage until aborted; best effort, the original error matters more.
    HttpRequest abort{
        .method = "DELETE", .url = url(key, {{"uploadId", upload_id}}), .headers = base_headers(kEmptySha256)};
    try {
      send(abort, what + " (abort)");
    } catch (const std::exception&) {}
    throw;
  }
}

}  // namespace arca
