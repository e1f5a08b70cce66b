// S3 request signing: libcurl's built-in AWS SigV4, applied to every request through the generic
// HTTP client's setup hook (net/http_client.h), so that the client itself knows nothing of S3.
#pragma once
#include <functional>

#include "storage/s3/s3_options.h"

namespace arca {

// The hook for HttpConfig::setup_request; it throws Error(Generic) if this libcurl cannot sign.
std::function<void(void* curl)> sigv4_signer(const S3Options& opts);

}  // namespace arca
