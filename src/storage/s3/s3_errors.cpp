// What an S3 error answer means for the operator: the error kind (and so the exit code) and
// what to change, from the server's code and message and the options in use.
#include <algorithm>

#include "storage/s3/s3_backend.h"
#include "storage/s3/xml.h"
#include "util/error.h"

namespace arca {

void S3Backend::fail(const HttpResponse& r, const std::string& what) const {
  std::string body = body_text(r);
  std::string code = xml::text(body, "Code"), message = xml::text(body, "Message");
  // Server text goes to a terminal: no control characters (escape sequences) from it.
  std::erase_if(message, [](char ch) { return (unsigned char)ch < 0x20 || ch == 0x7f; });
  std::erase_if(code, [](char ch) { return (unsigned char)ch < 0x20 || ch == 0x7f; });
  if (code == "RequestTimeTooSkewed")
    throw Error(ErrorKind::Io, what + ": HTTP " + std::to_string(r.status) + " " + code +
                                   ": this machine's clock is off; signed requests must be within 15 minutes of the "
                                   "server's time (fix NTP)");
  std::string server =
      "HTTP " + std::to_string(r.status) + (code.empty() ? "" : " " + code) + (message.empty() ? "" : ": " + message);
  if (code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" || code == "InvalidToken" ||
      code == "ExpiredToken" || code == "InvalidSecurity")
    throw Error(ErrorKind::Auth, what + ": the server refused the credentials (" + server +
                                     "). Credentials came from " + opts_.credentials_source +
                                     "; check the access key, the secret and the region (" + opts_.region +
                                     ", -o s3.region=R)");
  if (code == "AuthorizationHeaderMalformed" || code == "PermanentRedirect" || r.status == 301)
    throw Error(ErrorKind::Usage, what + ": wrong region or endpoint (" + server + "); set -o s3.region=R" +
                                      (r.header("x-amz-bucket-region").empty()
                                           ? ""
                                           : " (the bucket says " + r.header("x-amz-bucket-region") + ")"));
  if (code == "NoSuchBucket")
    throw Error(ErrorKind::NotFound, what + ": bucket '" + opts_.bucket + "' does not exist at " + opts_.host +
                                         " (create it, or run `arca init --create-bucket`)");
  if (r.status == 403)
    throw Error(ErrorKind::Auth, what + ": access denied (" + server + "); the credentials from " +
                                     opts_.credentials_source + " lack permission for bucket '" + opts_.bucket + "'");
  if (r.status == 404) throw Error(ErrorKind::NotFound, what + ": not found (" + server + ")");
  std::string hint;
  bool refused = code == "InvalidRequest" || code == "InvalidArgument" || code == "NotImplemented" ||
                 code == "InvalidStorageClass" || code == "InvalidEncryptionAlgorithmError";
  if (refused && !opts_.lock_mode.empty() && (message.empty() || message.find("ock") != std::string::npos))
    hint =
        "; the bucket may not have Object Lock enabled (create it with -o s3.bucket-object-lock=true) — or drop "
        "s3.object-lock-mode/-days";
  else if (refused && !opts_.storage_class.empty())
    hint = "; the store may not offer storage class '" + opts_.storage_class + "' (-o s3.storage-class)";
  else if (refused && !opts_.sse.empty())
    hint = "; the store may not support server-side encryption '" + opts_.sse + "' (-o s3.sse)";
  else if (code == "InvalidDigest" || code == "BadDigest" || code == "XAmzContentSHA256Mismatch")
    hint = "; the data changed in transit";

  throw Error(ErrorKind::Io, what + ": " + server + hint);
}

}  // namespace arca
