#include "storage/s3/sigv4.h"

#include <curl/curl.h>

#include "util/error.h"

namespace arca {

std::function<void(void* curl)> sigv4_signer(const S3Options& opts) {
  return [scope = "aws:amz:" + opts.region + ":s3", access = opts.access_key, secret = opts.secret_key](void* h) {
    CURL* c = static_cast<CURL*>(h);
    if (curl_easy_setopt(c, CURLOPT_AWS_SIGV4, scope.c_str()) != CURLE_OK)
      throw Error(ErrorKind::Generic, "this libcurl cannot sign requests (AWS SigV4 needs libcurl 7.75 or newer)");
    curl_easy_setopt(c, CURLOPT_USERNAME, access.c_str());  // may contain ':' (Swift's "account:user")
    curl_easy_setopt(c, CURLOPT_PASSWORD, secret.c_str());
  };
}

}  // namespace arca
